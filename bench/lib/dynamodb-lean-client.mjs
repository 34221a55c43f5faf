// A lean DynamoDB load generator: it sends exactly the requests `@aws-sdk/client-dynamodb` v3
// sends (the same headers in the same order, the same JSON body, SigV4-signed over the same
// signed headers, each with its own invocation id and date), on keep-alive node:http sockets,
// without the SDK's middleware stack. The SDK cost the bench process about 2 ms of CPU per call
// (load 14-19), this client 0.2-0.3 ms: on a 2-core machine the SDK, not the server, set the pace
// of both systems, so the ratio tended to 1 whatever the server did.
//
// What the SDK sends was read off the wire (SDK 3.x, Node 20): POST / with content-type,
// x-amz-target, content-length, x-amz-user-agent, user-agent, host, amz-sdk-invocation-id,
// amz-sdk-request, x-amz-date, x-amz-content-sha256, authorization; SignedHeaders =
// amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;
// x-amz-date;x-amz-target;x-amz-user-agent. The signature is checked by Nimbus on every call,
// so a wrong one shows up as errors in the bench, never as a silent speed-up.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

const SIGNED_HEADERS =
  'amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target;x-amz-user-agent';
const SDK_UA = 'aws-sdk-js/3.0.0';
const SDK_FULL_UA = `${SDK_UA} ua/2.1 lang/js md/nodejs#${process.versions.node} api/dynamodb#3.0.0 m/N,E,P,e`;

const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

/** `20261203T071303Z` */
function amzDate(ms) {
  return `${new Date(ms).toISOString().slice(0, 19).replaceAll('-', '').replaceAll(':', '')}Z`;
}

/**
 * A client for one endpoint and key: `send(operation, input)` resolves to the parsed answer, or
 * rejects with an Error named after the service's `__type` code (as the SDK does).
 */
export function leanDynamoClient(url, credentials, { region = 'us-east-1', sockets = 16 } = {}) {
  const { hostname, port } = new URL(url);
  const host = `${hostname}:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  // The signing key changes once a day; the date of the last one decides whether to derive again.
  let keyDate = '';
  let signingKey;
  const keyFor = (date) => {
    if (date !== keyDate) {
      const k = hmac(`AWS4${credentials.secretAccessKey}`, date);
      signingKey = hmac(hmac(hmac(k, region), 'dynamodb'), 'aws4_request');
      keyDate = date;
    }
    return signingKey;
  };

  function send(operation, input) {
    const body = JSON.stringify(input);
    const length = Buffer.byteLength(body);
    const target = `DynamoDB_20120810.${operation}`;
    const invocationId = randomUUID();
    const date = amzDate(Date.now());
    const day = date.slice(0, 8);
    const payloadHash = sha256Hex(body);
    const canonical =
      'POST\n/\n\n' +
      `amz-sdk-invocation-id:${invocationId}\n` +
      'amz-sdk-request:attempt=1; max=1\n' +
      `content-length:${length}\n` +
      'content-type:application/x-amz-json-1.0\n' +
      `host:${host}\n` +
      `x-amz-content-sha256:${payloadHash}\n` +
      `x-amz-date:${date}\n` +
      `x-amz-target:${target}\n` +
      `x-amz-user-agent:${SDK_UA}\n` +
      `\n${SIGNED_HEADERS}\n${payloadHash}`;
    const scope = `${day}/${region}/dynamodb/aws4_request`;
    const signature = createHmac('sha256', keyFor(day))
      .update(`AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256Hex(canonical)}`)
      .digest('hex');
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
      'content-length': length,
      'x-amz-user-agent': SDK_UA,
      'user-agent': SDK_FULL_UA,
      host,
      'amz-sdk-invocation-id': invocationId,
      'amz-sdk-request': 'attempt=1; max=1',
      'x-amz-date': date,
      'x-amz-content-sha256': payloadHash,
      authorization:
        `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
        `SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
    };
    return new Promise((resolve, reject) => {
      const req = request(
        { agent, host: hostname, port, method: 'POST', path: '/', headers },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            let doc;
            try {
              doc = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
            } catch (error) {
              reject(error);
              return;
            }
            if (res.statusCode === 200) {
              resolve(doc);
              return;
            }
            const error = new Error(doc.message ?? doc.Message ?? `HTTP ${res.statusCode}`);
            error.name = String(doc.__type ?? 'HTTPError')
              .split('#')
              .pop();
            reject(error);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  return { send, destroy: () => agent.destroy() };
}
