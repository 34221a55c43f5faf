// A lean S3 load generator for large objects: it sends the requests `@aws-sdk/client-s3` v3 sends
// for a streamed PutObject and a GetObject (the same headers, the same SigV4 signature over the
// same signed headers, the same body framing and checksums) on a keep-alive node:http socket,
// without the SDK's middleware and stream wrappers. Against a sink serving from memory (load 15)
// the SDK cost the bench process 2.6-2.8 ms of CPU per MiB downloaded, this client 1.5-2.1 (Node's
// HTTP client and the CRC32 check are most of both); uploads cost both about 1 ms/MiB. The bench
// shares the server's 2 cores, so what the client spends the server cannot.
//
// What the SDK sends was read off the wire (SDK 3.x, Node 20, default checksum settings):
// - PutObject with a stream body: `Expect: 100-continue`, `transfer-encoding: chunked`,
//   `content-encoding: aws-chunked`, `x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`,
//   `x-amz-decoded-content-length`, `x-amz-sdk-checksum-algorithm: CRC32`, `x-amz-trailer:
//   x-amz-checksum-crc32`; the body is one aws-chunked chunk per piece of the source
//   (`<hex size>\r\n<data>\r\n`), then `0\r\n`, the CRC32 trailer and a blank line.
// - GetObject: `x-amz-checksum-mode: ENABLED`, the empty body's SHA-256; the response's bytes are
//   checked against its `x-amz-checksum-crc32` (a mismatch rejects, as in the SDK).
// Nimbus checks the signature and the trailer's CRC32 on every upload, so a wrong request shows
// up as an error in the bench, never as a silent speed-up.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { crc32 } from 'node:zlib';

const SDK_UA = 'aws-sdk-js/3.0.0';
const SDK_FULL_UA = `${SDK_UA} ua/2.1 lang/js md/nodejs#${process.versions.node} api/s3#3.0.0 m/N,Z,b,U,E,e`;
const EMPTY_SHA256 = createHash('sha256').digest('hex');
const PUT_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;content-encoding;content-type;host;x-amz-content-sha256;' +
  'x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer;x-amz-user-agent';
const GET_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;host;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date;' +
  'x-amz-user-agent';
const CRLF = Buffer.from('\r\n');

const hmac = (key, text) => createHmac('sha256', key).update(text).digest();
const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

/** `20261203T071303Z` */
function amzDate(ms) {
  return `${new Date(ms).toISOString().slice(0, 19).replaceAll('-', '').replaceAll(':', '')}Z`;
}

/** A key's path segments as S3 signs them: each encoded once (RFC 3986 unreserved kept). */
function s3Path(bucket, key) {
  const enc = (s) =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return `/${enc(bucket)}/${key.split('/').map(enc).join('/')}`;
}

function crcBase64(value) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

/**
 * A client for one endpoint and key: `putObject(bucket, key, source, length)` streams the pieces of
 * `source` (an async iterable of Buffers, `length` bytes in all) and resolves to the ETag;
 * `getObject(bucket, key)` reads the object, checks its CRC32 and resolves to its size.
 */
export function leanS3Client(url, credentials, { region = 'us-east-1' } = {}) {
  const { hostname, port } = new URL(url);
  const host = `${hostname}:${port}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let keyDate = '';
  let signingKey;
  const keyFor = (day) => {
    if (day !== keyDate) {
      const k = hmac(`AWS4${credentials.secretAccessKey}`, day);
      signingKey = hmac(hmac(hmac(k, region), 's3'), 'aws4_request');
      keyDate = day;
    }
    return signingKey;
  };

  /** The signed header set: `headers` (lower-case names, in SignedHeaders order) + authorization. */
  function sign(method, path, query, signedNames, headers) {
    const date = headers['x-amz-date'];
    const day = date.slice(0, 8);
    const canonical = [
      method,
      path,
      query,
      ...signedNames.split(';').map((name) => `${name}:${headers[name]}`),
      '',
      signedNames,
      headers['x-amz-content-sha256'],
    ].join('\n');
    const scope = `${day}/${region}/s3/aws4_request`;
    const signature = createHmac('sha256', keyFor(day))
      .update(`AWS4-HMAC-SHA256\n${date}\n${scope}\n${sha256Hex(canonical)}`)
      .digest('hex');
    return {
      ...headers,
      authorization:
        `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
        `SignedHeaders=${signedNames}, Signature=${signature}`,
    };
  }

  const common = () => ({
    'amz-sdk-invocation-id': randomUUID(),
    'amz-sdk-request': 'attempt=1; max=1',
    host,
    'x-amz-date': amzDate(Date.now()),
    'x-amz-user-agent': SDK_UA,
  });

  function failed(res, body) {
    const text = body.toString('utf8');
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${res.statusCode}`;
    const error = new Error(`${code}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text}`);
    error.name = code;
    return error;
  }

  function putObject(bucket, key, source, length) {
    const path = s3Path(bucket, key);
    const headers = sign('PUT', path, 'x-id=PutObject', PUT_SIGNED, {
      ...common(),
      'content-encoding': 'aws-chunked',
      'content-type': 'application/octet-stream',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(length),
      'x-amz-sdk-checksum-algorithm': 'CRC32',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    headers['user-agent'] = SDK_FULL_UA;
    headers.expect = '100-continue';
    headers['transfer-encoding'] = 'chunked';
    return new Promise((resolve, reject) => {
      const req = request({
        agent,
        host: hostname,
        port,
        method: 'PUT',
        path: `${path}?x-id=PutObject`,
        headers,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 200) resolve({ etag: res.headers.etag });
          else reject(failed(res, Buffer.concat(chunks)));
        });
      });
      req.on('continue', () => {
        streamBody(req, source).catch((error) => req.destroy(error));
      });
    });
  }

  /** aws-chunked framing over HTTP chunks, one chunk per source piece, CRC32 as the trailer. */
  async function streamBody(req, source) {
    let crc = 0;
    for await (const piece of source) {
      if (piece.length === 0) continue;
      crc = crc32(piece, crc);
      // Corked, the three writes leave as one HTTP chunk, as the SDK's one stream push does.
      req.cork();
      req.write(`${piece.length.toString(16)}\r\n`);
      req.write(piece);
      const more = req.write(CRLF);
      req.uncork();
      if (!more) await new Promise((resolve) => req.once('drain', resolve));
    }
    req.end(`0\r\nx-amz-checksum-crc32:${crcBase64(crc)}\r\n\r\n`);
  }

  function getObject(bucket, key) {
    const path = s3Path(bucket, key);
    const headers = sign('GET', path, 'x-id=GetObject', GET_SIGNED, {
      ...common(),
      'x-amz-checksum-mode': 'ENABLED',
      'x-amz-content-sha256': EMPTY_SHA256,
    });
    headers['user-agent'] = SDK_FULL_UA;
    return new Promise((resolve, reject) => {
      const req = request(
        { agent, host: hostname, port, method: 'GET', path: `${path}?x-id=GetObject`, headers },
        (res) => {
          if (res.statusCode !== 200) {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => reject(failed(res, Buffer.concat(chunks))));
            return;
          }
          const expected = res.headers['x-amz-checksum-crc32'];
          let crc = 0;
          let size = 0;
          res.on('data', (piece) => {
            size += piece.length;
            if (expected !== undefined) crc = crc32(piece, crc);
          });
          res.on('error', reject);
          res.on('end', () => {
            if (expected !== undefined && crcBase64(crc) !== expected) {
              reject(new Error(`GetObject: CRC32 ${crcBase64(crc)} is not the ${expected} sent`));
            } else {
              resolve({ size, checksumChecked: expected !== undefined });
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  return { putObject, getObject, destroy: () => agent.destroy() };
}
