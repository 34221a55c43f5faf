/**
 * The SNS service behind the front door. SNS speaks only the query protocol (SDK v3's
 * client-sns included: `Action=<Op>` forms, XML answers), through the shared query codec; each
 * call is SigV4-verified against its whole body, then run by operation name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import {
  guardedCall,
  type OwnerLookup,
  type ResourceGuard,
} from '../../platform/auth/resource-access.js';
import { createAwsQueryHandler, unflattenQuery } from '../../platform/aws/protocols/aws-query.js';
import { sqsAuthError } from '../sqs/sqs-errors.js';
import { snsAccessDenied, snsAccessRules } from './sns-access.js';
import type { SnsDeps } from './sns-call.js';
import { snsErrors } from './sns-errors.js';
import { runSnsOperation } from './sns-operations.js';
import { snsInputOfQuery, snsQueryResult } from './sns-query.js';
import { confirmSubscription } from './subscription-operations.js';

export interface SnsServiceOptions extends SnsDeps {
  verify: RequestVerifier;
  /** The shared scope lookup and owner records: a stage's credentials reach its own topics. */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  onError?: (error: unknown) => void;
}

/** A batch of ten messages, 256 KiB in all, form-encoded (up to 3x), fits under this. */
const maxBodyBytes = 2 * 1024 * 1024;

export function createSnsService(opts: SnsServiceOptions) {
  const guard: ResourceGuard | undefined = opts.owners && {
    owners: opts.owners,
    denied: snsAccessDenied,
  };
  const rules = snsAccessRules(async (name) => (await opts.store.findTopic(name)) !== undefined);
  const signed = createAwsQueryHandler({
    namespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
    maxBodyBytes,
    ...(opts.onError ? { onError: opts.onError } : {}),
    authenticate: async (req: IncomingMessage, body: Buffer) => {
      const auth = await opts.verify(req, body);
      // The query protocol's auth codes are the same for SQS and SNS.
      if (!auth.ok) throw sqsAuthError(auth);
      return auth.principal;
    },
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    serve: async ({ action, params, req, scope }) => {
      const input = snsInputOfQuery(unflattenQuery(params));
      const call = { deps: opts, req, input };
      const output = await (guard
        ? guardedCall(guard, scope, rules[action], input, () => runSnsOperation(action, call))
        : runSnsOperation(action, call));
      return snsQueryResult(output as Record<string, unknown>);
    },
  });
  // The SubscribeURL of a SubscriptionConfirmation: an unsigned GET whose token (256 random
  // bits, known only to the endpoint it was sent to) is what authorizes it, as on SNS.
  const subscribeUrl = createAwsQueryHandler({
    namespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
    maxBodyBytes: 0,
    ...(opts.onError ? { onError: opts.onError } : {}),
    authenticate: async () => 'anonymous',
    serve: async ({ action, params, req }) => {
      if (action !== 'ConfirmSubscription') throw snsErrors.invalidAction(action);
      const input = snsInputOfQuery(unflattenQuery(params));
      return snsQueryResult(
        (await confirmSubscription({ deps: opts, req, input })) as Record<string, unknown>,
      );
    },
  });
  return (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    req.headers.authorization === undefined && req.method === 'GET' && !hasPresignature(req)
      ? subscribeUrl(req, res)
      : signed(req, res);
}

function hasPresignature(req: IncomingMessage): boolean {
  return (req.url ?? '').includes('X-Amz-Credential=');
}
