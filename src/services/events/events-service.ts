/**
 * The EventBridge service behind the front door: AWS JSON 1.1 calls (`X-Amz-Target:
 * AWSEvents.<Op>`, SigV4 scope `events`) through the shared AWS JSON codec.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import { guardedOperations, type OwnerLookup } from '../../platform/auth/resource-access.js';
import { createAwsJsonHandler } from '../../platform/aws/protocols/aws-json.js';
import { eventsAccessDenied, eventsAccessRules, ruleOfId } from './events-access.js';
import { type EventsDeps, eventsOperations } from './events-operations.js';

export interface EventsServiceOptions extends EventsDeps {
  verify: RequestVerifier;
  /** The shared scope lookup and owner records: a stage's credentials reach its own buses. */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  onError?: (error: unknown) => void;
}

/** Ten entries of 256 KiB in all, JSON-escaped, fit under this. */
const maxBodyBytes = 2 * 1024 * 1024;

export function createEventsService(
  opts: EventsServiceOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return createAwsJsonHandler({
    version: '1.1',
    targetPrefix: 'AWSEvents',
    errorNamespace: 'com.amazonaws.events',
    maxBodyBytes,
    verify: opts.verify,
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
    operations: guardedOperations(
      eventsOperations(opts),
      eventsAccessRules({
        busExists: async (name) => (await opts.store.findBus(name)) !== undefined,
        ruleExists: async (id) => {
          const { bus, name } = ruleOfId(id);
          return (await opts.store.findRule(bus, name)) !== undefined;
        },
      }),
      opts.owners && { owners: opts.owners, denied: eventsAccessDenied },
    ),
  });
}
