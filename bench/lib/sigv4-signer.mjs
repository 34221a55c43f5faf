// SigV4 header signing for the bench's lean load generators (AWS JSON, S3 over node:http, S3 over
// raw sockets): one signer, so every generator signs exactly as the others do. Nimbus verifies
// the signature of every request, so a wrong one shows up as errors, never as a speed-up.
// Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
import { createHash, createHmac } from 'node:crypto';

const hmac = (key, text) => createHmac('sha256', key).update(text).digest();

export const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

/** `20261203T071303Z` */
export function amzDate(ms) {
  return `${new Date(ms).toISOString().slice(0, 19).replaceAll('-', '').replaceAll(':', '')}Z`;
}

/**
 * A signer for one key, region and service. `authorization(method, path, query, signedHeaders,
 * headers)`: the Authorization header's value for a request whose canonical path and query are
 * `path` and `query` (already encoded as they are signed), `signedHeaders` the `;`-joined sorted
 * lower-case names, `headers` their values (with `x-amz-date` and `x-amz-content-sha256`).
 */
export function sigv4Signer(credentials, { region = 'us-east-1', service }) {
  // The signing key changes once a day; the day of the last one decides whether to derive again.
  let keyDay = '';
  let signingKey;
  const keyFor = (day) => {
    if (day !== keyDay) {
      const k = hmac(`AWS4${credentials.secretAccessKey}`, day);
      signingKey = hmac(hmac(hmac(k, region), service), 'aws4_request');
      keyDay = day;
    }
    return signingKey;
  };
  function authorization(method, path, query, signedHeaders, headers) {
    const date = headers['x-amz-date'];
    const day = date.slice(0, 8);
    let canonicalHeaders = '';
    for (const name of signedHeaders.split(';')) canonicalHeaders += `${name}:${headers[name]}\n`;
    const canonical = `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${headers['x-amz-content-sha256']}`;
    const scope = `${day}/${region}/${service}/aws4_request`;
    const signature = createHmac('sha256', keyFor(day))
      .update(`AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256Hex(canonical)}`)
      .digest('hex');
    return (
      `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`
    );
  }
  return { authorization };
}
