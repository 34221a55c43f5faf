/**
 * The Kinesis Data Streams service behind the front door: AWS JSON 1.1 calls (`X-Amz-Target:
 * Kinesis_20131202.<Op>`) through the shared AWS JSON codec, each SigV4-verified against its
 * whole body. @aws-sdk/client-kinesis v3 speaks JSON 1.1 (it sends no CBOR), as do boto3 and
 * the AWS CLI. A CBOR body (the Java SDK's default) is not JSON and is refused as the codec
 * refuses any such body, with SerializationException (docs/kinesis.md#clients).
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import { guardedOperations, type OwnerLookup } from '../../platform/auth/resource-access.js';
import {
  type AwsJsonOperation,
  createAwsJsonHandler,
} from '../../platform/aws/protocols/aws-json.js';
import { kinesisAccessDenied, kinesisAccessRules } from './kinesis-access.js';
import type { KinesisDeps } from './kinesis-call.js';
import { recordOperations } from './record-operations.js';
import { streamOperations } from './stream-operations.js';

export interface KinesisServiceOptions extends KinesisDeps {
  verify: RequestVerifier;
  /** The shared scope lookup and owner records: a stage's credentials reach its own streams. */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  onError?: (error: unknown) => void;
}

/** A PutRecords of 5 MiB grows by a third in base64, plus its JSON. */
const maxBodyBytes = 8 * 1024 * 1024;

export function createKinesisService(opts: KinesisServiceOptions) {
  const operations: Record<string, AwsJsonOperation> = guardedOperations(
    { ...streamOperations(opts), ...recordOperations(opts) },
    kinesisAccessRules(async (name) => (await opts.store.findStream(name)) !== undefined),
    opts.owners && { owners: opts.owners, denied: kinesisAccessDenied },
  );
  return createAwsJsonHandler({
    version: '1.1',
    targetPrefix: 'Kinesis_20131202',
    errorNamespace: 'com.amazonaws.kinesis.v20131202',
    maxBodyBytes,
    verify: opts.verify,
    ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
    operations,
    ...(opts.onError ? { onError: opts.onError } : {}),
  }) as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}
