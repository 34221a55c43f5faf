/**
 * The SQS service behind the front door: AWS JSON 1.0 calls (SDK v3, `X-Amz-Target:
 * AmazonSQS.<Op>`) through the shared AWS JSON codec, and query calls (SDK v2, older boto3:
 * `Action=<Op>` forms, XML answers) through the shared query codec. Each call is SigV4-verified against its
 * whole body, then run by operation name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessKeyScope } from '../../platform/auth/access-key-store.js';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import {
  guardedCall,
  type OwnerLookup,
  type ResourceGuard,
} from '../../platform/auth/resource-access.js';
import { createAwsJsonHandler, isAwsJsonRequest } from '../../platform/aws/protocols/aws-json.js';
import { createAwsQueryHandler, unflattenQuery } from '../../platform/aws/protocols/aws-query.js';
import { sqsAccessDenied, sqsAccessRules } from './sqs-access.js';
import type { SqsCall, SqsDeps } from './sqs-call.js';
import { sqsAuthError, sqsQueryError } from './sqs-errors.js';
import { runSqsOperation } from './sqs-operations.js';
import { sqsInputOfQuery, sqsQueryResult } from './sqs-query.js';

export interface SqsServiceOptions extends SqsDeps {
  verify: RequestVerifier;
  /** The shared scope lookup and owner records: a stage's credentials reach its own queues. */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  onError?: (error: unknown) => void;
}

/** A batch of ten 256 KiB messages with JSON escaping fits well under this. */
const maxBodyBytes = 8 * 1024 * 1024;

export function createSqsService(opts: SqsServiceOptions) {
  const guard: ResourceGuard | undefined = opts.owners && {
    owners: opts.owners,
    denied: sqsAccessDenied,
  };
  const rules = sqsAccessRules(async (name) => (await opts.store.findQueue(name)) !== undefined);
  const run = (operation: string, call: SqsCall, scope: AccessKeyScope | undefined) =>
    guard
      ? guardedCall(guard, scope, rules[operation], call.input, () =>
          runSqsOperation(operation, call),
        )
      : runSqsOperation(operation, call);
  const authenticate = async (req: IncomingMessage, body: Buffer): Promise<string> => {
    const auth = await opts.verify(req, body);
    if (!auth.ok) throw sqsAuthError(auth);
    return auth.principal;
  };
  const json = createAwsJsonHandler({
    version: '1.0',
    targetPrefix: 'AmazonSQS',
    errorNamespace: 'com.amazonaws.sqs',
    maxBodyBytes,
    verify: opts.verify,
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    authError: sqsAuthError,
    queryError: sqsQueryError,
    ...(opts.onError ? { onError: opts.onError } : {}),
    // SQS answers unknown and unsupported names itself (InvalidAction, UnsupportedOperation).
    dispatch: (operation, input, { req, scope }) =>
      run(operation, { deps: opts, req, input }, scope),
  });
  const query = createAwsQueryHandler({
    namespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
    maxBodyBytes,
    queryError: sqsQueryError,
    onError: opts.onError,
    authenticate,
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    serve: async ({ action, params, req, scope }) => {
      const input = sqsInputOfQuery(unflattenQuery(params));
      const output = await run(action, { deps: opts, req, input }, scope);
      return sqsQueryResult(action, output as Record<string, unknown>);
    },
  });
  return (req: IncomingMessage, res: ServerResponse): Promise<void> =>
    isAwsJsonRequest(req) ? json(req, res) : query(req, res);
}
