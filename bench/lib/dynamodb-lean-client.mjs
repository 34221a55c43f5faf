// The lean DynamoDB load generator: the requests `@aws-sdk/client-dynamodb` v3 sends, without
// the SDK's middleware (bench/lib/aws-json-lean-client.mjs says what is sent and why). The SDK
// cost the bench process about 2 ms of CPU per call (load 14-19), this client 0.2-0.3 ms: on a
// 2-core machine the SDK, not the server, set the pace of both systems, so the ratio tended to
// 1 whatever the server did. Its signer (`sign`) also signs the requests the DynamoDB scenario's
// headline generator replays (replay-load.mjs), which costs the bench process less again.
import { leanAwsJsonClient } from './aws-json-lean-client.mjs';

/**
 * A client for one endpoint and key: `send(operation, input)` resolves to the parsed answer, or
 * rejects with an Error named after the service's `__type` code (as the SDK does).
 */
export function leanDynamoClient(url, credentials, { region = 'us-east-1', sockets = 16 } = {}) {
  return leanAwsJsonClient(url, credentials, {
    service: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    api: 'dynamodb',
    region,
    sockets,
  });
}
