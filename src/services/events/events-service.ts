/**
 * The EventBridge service behind the front door: AWS JSON 1.1 calls (`X-Amz-Target:
 * AWSEvents.<Op>`, SigV4 scope `events`) through the shared AWS JSON codec.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import { createAwsJsonHandler } from '../../platform/aws/protocols/aws-json.js';
import { type EventsDeps, eventsOperations } from './events-operations.js';

export interface EventsServiceOptions extends EventsDeps {
  verify: RequestVerifier;
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
    ...(opts.onError ? { onError: opts.onError } : {}),
    operations: eventsOperations(opts),
  });
}
