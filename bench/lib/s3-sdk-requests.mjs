// The requests `@aws-sdk/client-s3` v3 sends for a streamed PutObject and a GetObject (and, for
// the multipart rows, CreateMultipartUpload, UploadPart framed as the streamed PutObject,
// CompleteMultipartUpload and a ranged GetObject), built and
// signed for the bench's lean load generators (lib/s3-lean-client.mjs over node:http,
// lib/s3-raw-client.mjs over raw sockets), so both put the same bytes on the wire.
//
// What the SDK sends was read off the wire (SDK 3.1163, Node 20, default checksum settings):
// - PutObject with a stream body, on a connection of its own (`Connection: close`: the SDK's
//   handler gives 100-continue requests a non-keep-alive agent): `Expect: 100-continue`,
//   `transfer-encoding: chunked`, `content-encoding: aws-chunked`, `x-amz-content-sha256:
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `x-amz-decoded-content-length`,
//   `x-amz-sdk-checksum-algorithm: CRC32`, `x-amz-trailer: x-amz-checksum-crc32`. The body is one
//   aws-chunked chunk per piece of the source, written as three HTTP chunks (`<hex size>\r\n`,
//   the data, `\r\n`); then `0\r\n`, the CRC32 trailer line and a blank line, an HTTP chunk
//   each, and the last HTTP chunk.
// - GetObject, on a keep-alive connection: `x-amz-checksum-mode: ENABLED`, the empty body's
//   SHA-256; the SDK checks the response's bytes against its `x-amz-checksum-crc32`.
// The headers go in the SDK's order. Nimbus checks the signature and the trailer's CRC32 on every
// upload, so a wrong request shows up as an error in the bench, never as a silent speed-up.
import { randomUUID } from 'node:crypto';
import { amzDate, sha256Hex, sigv4Signer } from './sigv4-signer.mjs';

const SDK_UA = 'aws-sdk-js/3.0.0';
const fullUa = (features) =>
  `${SDK_UA} ua/2.1 lang/js md/nodejs#${process.versions.node} api/s3#3.0.0 m/${features}`;
const EMPTY_SHA256 = sha256Hex('');
const PUT_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;content-encoding;content-type;host;x-amz-content-sha256;' +
  'x-amz-date;x-amz-decoded-content-length;x-amz-sdk-checksum-algorithm;x-amz-trailer;x-amz-user-agent';
const GET_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;host;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date;' +
  'x-amz-user-agent';

/** A key's path segments as S3 signs them: each encoded once (RFC 3986 unreserved kept). */
function s3Path(bucket, key) {
  const enc = (s) =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return `/${enc(bucket)}/${key.split('/').map(enc).join('/')}`;
}

/** A CRC32 as S3's checksum headers carry it: the 4 big-endian bytes in base64. */
export function crcBase64(value) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

/**
 * The HTTP chunks, in order, of one aws-chunked chunk of `size` bytes: its header, the data (a
 * null stands for it) and its CRLF, as the SDK writes them.
 */
export const awsChunkParts = (size) => [`${size.toString(16)}\r\n`, null, '\r\n'];

/** The HTTP chunks of the aws-chunked body's end: the last (empty) chunk, the CRC32 trailer. */
export const awsChunkedEndParts = (crc) => [
  '0\r\n',
  `x-amz-checksum-crc32:${crcBase64(crc)}\r\n`,
  '\r\n',
];

/** An S3 error answer (XML body) as an Error named after its code, as the SDK rejects. */
export function s3Error(status, body) {
  const text = body.toString('utf8');
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${status}`;
  const error = new Error(`${code}: ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text}`);
  error.name = code;
  return error;
}

/** `values` (lower-case names) as headers named and ordered as in `names`. */
function ordered(names, values) {
  const out = {};
  for (const name of names) out[name] = values[name.toLowerCase()];
  return out;
}

const GET_RANGE_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;host;range;x-amz-checksum-mode;x-amz-content-sha256;' +
  'x-amz-date;x-amz-user-agent';
const CREATE_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-checksum-algorithm;' +
  'x-amz-content-sha256;x-amz-date;x-amz-user-agent';
const COMPLETE_SIGNED =
  'amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;' +
  'x-amz-date;x-amz-user-agent';

/** The run of headers every request of the SDK carries in this order, after its own. */
const SDK_HEADERS = [
  'x-amz-user-agent',
  'user-agent',
  'host',
  'amz-sdk-invocation-id',
  'amz-sdk-request',
  'x-amz-date',
];
const PUT_ORDER = [
  'content-type',
  'Expect',
  'x-amz-sdk-checksum-algorithm',
  'content-encoding',
  'transfer-encoding',
  'x-amz-decoded-content-length',
  'x-amz-content-sha256',
  'x-amz-trailer',
  ...SDK_HEADERS,
  'authorization',
];
const GET_ORDER = ['x-amz-checksum-mode', ...SDK_HEADERS, 'x-amz-content-sha256', 'authorization'];

const GET_RANGE_ORDER = ['range', ...GET_ORDER];
const CREATE_ORDER = [
  'content-type',
  'x-amz-checksum-algorithm',
  ...SDK_HEADERS,
  'x-amz-content-sha256',
  'authorization',
  'content-length',
];
const COMPLETE_ORDER = [
  'content-type',
  'content-length',
  ...SDK_HEADERS,
  'x-amz-content-sha256',
  'authorization',
];

/**
 * Request builders for one endpoint and key. Each returns `{ method, target, headers }`: the
 * request target (path and query) and the headers in the SDK's order and spelling; the transport
 * adds `Connection` (`close` for PutObject, `keep-alive` for GetObject, as the SDK's agents do).
 */
export function s3SdkRequests(url, credentials, { region = 'us-east-1' } = {}) {
  const { hostname, port } = new URL(url);
  const host = `${hostname}:${port}`;
  const signer = sigv4Signer(credentials, { region, service: 's3' });

  const common = () => ({
    'amz-sdk-invocation-id': randomUUID(),
    'amz-sdk-request': 'attempt=1; max=1',
    host,
    'x-amz-date': amzDate(Date.now()),
    'x-amz-user-agent': SDK_UA,
  });

  function signed(method, path, query, signedNames, values, order) {
    values.authorization = signer.authorization(method, path, query, signedNames, values);
    return { method, target: `${path}?${query}`, headers: ordered(order, values) };
  }

  /** The headers of a streamed body of `length` bytes: aws-chunked, a CRC32 trailer, 100-continue. */
  const streamed = (length) => ({
    ...common(),
    'content-encoding': 'aws-chunked',
    'content-type': 'application/octet-stream',
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'x-amz-decoded-content-length': String(length),
    'x-amz-sdk-checksum-algorithm': 'CRC32',
    'x-amz-trailer': 'x-amz-checksum-crc32',
    'user-agent': fullUa('N,Z,b,U,E,e'),
    expect: '100-continue',
    'transfer-encoding': 'chunked',
  });

  /** PutObject of `length` bytes, aws-chunked with a CRC32 trailer, after `100 Continue`. */
  function putObject(bucket, key, length) {
    const path = s3Path(bucket, key);
    return signed('PUT', path, 'x-id=PutObject', PUT_SIGNED, streamed(length), PUT_ORDER);
  }

  /**
   * GetObject with the response's checksum asked for; `range` ({ start, end }, inclusive) adds
   * the Range header a ranged download (s3transfer, lib-storage's readers) sends.
   */
  function getObject(bucket, key, range) {
    const path = s3Path(bucket, key);
    const values = {
      ...common(),
      'x-amz-checksum-mode': 'ENABLED',
      'x-amz-content-sha256': EMPTY_SHA256,
      'user-agent': fullUa('N,Z,b,E,e'),
    };
    if (!range) return signed('GET', path, 'x-id=GetObject', GET_SIGNED, values, GET_ORDER);
    values.range = `bytes=${range.start}-${range.end}`;
    return signed('GET', path, 'x-id=GetObject', GET_RANGE_SIGNED, values, GET_RANGE_ORDER);
  }

  /** CreateMultipartUpload (`POST /b/k?uploads`), an empty body. */
  function createMultipartUpload(bucket, key) {
    const path = s3Path(bucket, key);
    const values = {
      ...common(),
      'content-type': 'application/octet-stream',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-checksum-algorithm': 'CRC32',
      'user-agent': fullUa('N,Z,b,E,e'),
      'content-length': '0',
    };
    const request = signed(
      'POST',
      path,
      'uploads=&x-id=CreateMultipartUpload',
      CREATE_SIGNED,
      values,
      CREATE_ORDER,
    );
    // As the SDK writes it: `?uploads`, canonicalised as `uploads=` when signed.
    return { ...request, target: `${path}?uploads&x-id=CreateMultipartUpload` };
  }

  /** UploadPart: the body framed as PutObject's (aws-chunked, CRC32 trailer, 100-continue). */
  function uploadPart(bucket, key, uploadId, partNumber, length) {
    const path = s3Path(bucket, key);
    const query = `partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}&x-id=UploadPart`;
    return signed('PUT', path, query, PUT_SIGNED, streamed(length), PUT_ORDER);
  }

  /** CompleteMultipartUpload with `xml` (the part list) as a signed body. */
  function completeMultipartUpload(bucket, key, uploadId, xml) {
    const path = s3Path(bucket, key);
    const values = {
      ...common(),
      'content-type': 'application/xml',
      'x-amz-content-sha256': sha256Hex(xml),
      'user-agent': fullUa('N,Z,b,E,e'),
      'content-length': String(Buffer.byteLength(xml)),
    };
    const query = `uploadId=${encodeURIComponent(uploadId)}&x-id=CompleteMultipartUpload`;
    return signed('POST', path, query, COMPLETE_SIGNED, values, COMPLETE_ORDER);
  }

  return {
    hostname,
    port: Number(port),
    putObject,
    getObject,
    createMultipartUpload,
    uploadPart,
    completeMultipartUpload,
  };
}
