// The bench's headline S3 large-object load generator, as cheap as a curl/wrk-class tool: raw
// `node:net` sockets carrying the bytes `@aws-sdk/client-s3` v3 puts on the wire for a streamed
// PutObject and a GetObject (lib/s3-sdk-requests.mjs builds and signs them: aws-chunked body with a
// CRC32 trailer after `100 Continue`; `x-amz-checksum-mode: ENABLED`). What the SDK and Node's HTTP
// client spend per MiB on the bench's 2 cores is no longer taken from the server it measures:
// - upload: the wire body (HTTP chunks around aws-chunked chunks, the CRC32 trailer) is built once,
//   before the timed window (`prepareUpload`), and written from those buffers: no per-piece
//   framing, no CRC32 while timed;
// - download: the socket reads into one reused buffer (`onread`), so no Buffer is allocated per
//   read, and the body is counted by bytes. The CRC32 check is asked for (`{ verify: true }`) in
//   a download outside the timed window: zlib's crc32 costs about 0.2-0.25 ms/MiB here, more
//   than the rest of this client.
// One request at a time per client. As the SDK's handler does, each PutObject (100-continue) has
// a connection of its own (`Connection: close`) and GetObjects keep theirs alive; one idle for
// less than a second is reused, an older one closed and a new one opened, so a server's keep-alive
// timeout never races a request.
import { connect } from 'node:net';
import { crc32 } from 'node:zlib';
import {
  awsChunkedEndParts,
  awsChunkParts,
  crcBase64,
  s3Error,
  s3SdkRequests,
} from './s3-sdk-requests.mjs';

const READ_BUFFER_BYTES = 256 * 1024;
const REUSE_IDLE_MS = 1000;
const HEAD_END = Buffer.from('\r\n\r\n');

/** HTTP chunks (`<hex size>\r\n<bytes>\r\n`) of `parts` (strings or Buffers), as one buffer. */
function httpChunks(parts) {
  const out = [];
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    out.push(Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(out);
}

/**
 * The wire body of a PutObject of `block` repeated up to `bytes` (a last piece shorter), as the
 * SDK sends it (lib/s3-sdk-requests.mjs: one aws-chunked chunk per piece, its header, data and
 * CRLF an HTTP chunk each, then the CRC32 trailer), and the CRC32 of the object. Each distinct
 * framed piece is one buffer, referenced as often as it repeats, so a 256 MiB upload holds about
 * 1 MiB.
 */
export function prepareUpload(block, bytes) {
  const framedOf = new Map();
  const framed = (n) => {
    if (!framedOf.has(n)) {
      const piece = block.subarray(0, n);
      framedOf.set(n, httpChunks(awsChunkParts(n).map((part) => part ?? piece)));
    }
    return framedOf.get(n);
  };
  const plan = [];
  let crc = 0;
  for (let left = bytes; left > 0; ) {
    const n = Math.min(left, block.length);
    plan.push(framed(n));
    crc = crc32(block.subarray(0, n), crc);
    left -= n;
  }
  plan.push(Buffer.concat([httpChunks(awsChunkedEndParts(crc)), Buffer.from('0\r\n\r\n')]));
  return { length: bytes, crc, plan };
}

/** `PUT /b/k?x-id=PutObject HTTP/1.1` and the headers, as Node's HTTP client writes them. */
function requestHead({ method, target, headers }, connection) {
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return `${head}Connection: ${connection}\r\n\r\n`;
}

function parseHead(text) {
  const lines = text.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status, headers };
}

/**
 * A reader of one HTTP/1.1 response fed from the socket's reused buffer: informational answers
 * (100 Continue) go to `onInformational`, the body's bytes to `onBody(buffer, start, end)` (valid
 * only during the call), by Content-Length, chunked, or up to the connection's end.
 */
function responseReader({ onInformational, onHead, onBody, onEnd }) {
  let pending; // the head's bytes so far (copied: the read buffer is reused)
  let mode = 'head';
  let left = 0;
  let line = '';
  let chunkState = 'size';

  function headBytes(buf, start, end) {
    const piece = buf.subarray(start, end);
    pending = pending ? Buffer.concat([pending, piece]) : Buffer.from(piece);
    const at = pending.indexOf(HEAD_END);
    if (at < 0) return;
    const { status, headers } = parseHead(pending.toString('latin1', 0, at));
    const rest = pending.subarray(at + HEAD_END.length);
    pending = undefined;
    if (status >= 100 && status < 200) {
      onInformational(status);
    } else {
      onHead(status, headers);
      if (status === 204 || status === 304) mode = 'done';
      else if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) mode = 'chunked';
      else if (headers['content-length'] !== undefined) {
        left = Number(headers['content-length']);
        mode = left > 0 ? 'length' : 'done';
      } else mode = 'close';
      if (mode === 'done') return onEnd();
    }
    if (rest.length > 0) feed(rest, 0, rest.length);
  }

  function chunkedBytes(buf, start, end) {
    let at = start;
    while (at < end && mode === 'chunked') {
      if (chunkState === 'data') {
        const take = Math.min(left, end - at);
        onBody(buf, at, at + take);
        at += take;
        left -= take;
        if (left === 0) chunkState = 'crlf';
        continue;
      }
      const c = buf[at++];
      if (chunkState === 'crlf') {
        if (c === 10) chunkState = 'size';
      } else if (c === 10) {
        if (chunkState === 'size') {
          left = Number.parseInt(line.split(';')[0], 16);
          chunkState = left > 0 ? 'data' : 'trailer';
        } else if (line === '') {
          mode = 'done';
          onEnd();
        }
        line = '';
      } else if (c !== 13) line += String.fromCharCode(c);
    }
  }

  function feed(buf, start, end) {
    if (mode === 'head') headBytes(buf, start, end);
    else if (mode === 'length') {
      const take = Math.min(left, end - start);
      onBody(buf, start, start + take);
      left -= take;
      if (left === 0) {
        mode = 'done';
        onEnd();
      }
    } else if (mode === 'chunked') chunkedBytes(buf, start, end);
    else if (mode === 'close') onBody(buf, start, end);
  }

  /** The connection ended: the end of a close-delimited body, or too early for any other. */
  function eof() {
    if (mode === 'close') {
      mode = 'done';
      onEnd();
      return true;
    }
    return mode === 'done';
  }

  return { feed, eof };
}

/**
 * A client for one endpoint and key: `putObject(bucket, key, upload)` sends a `prepareUpload`
 * body and resolves to `{ etag }`; `getObject(bucket, key, { verify })` resolves to `{ size,
 * checksum }` (the response's x-amz-checksum-crc32), with `verify` also `crc` (the received
 * bytes' CRC32, base64), rejecting on a mismatch as the SDK does.
 */
export function rawS3Client(
  url,
  credentials,
  { region = 'us-east-1', readBufferBytes = READ_BUFFER_BYTES } = {},
) {
  const requests = s3SdkRequests(url, credentials, { region });
  const readBuffer = Buffer.allocUnsafe(readBufferBytes);
  let idle;
  let busy = false;

  function connection(keepAlive) {
    if (
      keepAlive &&
      idle &&
      !idle.socket.destroyed &&
      performance.now() - idle.since < REUSE_IDLE_MS
    ) {
      const conn = idle;
      idle = undefined;
      return conn;
    }
    if (keepAlive) {
      idle?.socket.destroy();
      idle = undefined;
    }
    const conn = { reader: undefined, closed: undefined, since: 0 };
    conn.socket = connect({
      host: requests.hostname,
      port: requests.port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (n, buf) => {
          conn.reader?.feed(buf, 0, n);
        },
      },
    });
    conn.socket.on('end', () => conn.reader?.eof());
    conn.socket.on('error', (error) => conn.closed?.(error));
    conn.socket.on('close', () => {
      if (idle === conn) idle = undefined;
      conn.closed?.(new Error('the connection closed before the response ended'));
    });
    return conn;
  }

  /**
   * One request and its response; `body`: buffers sent after 100 Continue when the request
   * expects it (a prepared upload's plan), else right after the head (a small XML body).
   */
  function exchange(request, { body, onBody }) {
    if (busy) return Promise.reject(new Error('rawS3Client: one request at a time'));
    busy = true;
    // A request that waits for 100 Continue (PutObject, UploadPart): its own connection, closed
    // after it.
    const expectContinue = request.headers.Expect !== undefined;
    const keepAlive = !expectContinue;
    const conn = connection(keepAlive);
    const { socket } = conn;
    return new Promise((resolve, reject) => {
      let status = 0;
      let headers;
      let bodyStarted = body === undefined || !expectContinue;
      let settled = false;
      const kept = [];
      const settle = (error, value) => {
        settled = true;
        conn.reader = undefined;
        conn.closed = undefined;
        busy = false;
        if (error) {
          socket.destroy();
          reject(error);
        } else {
          const reusable = keepAlive && !/\bclose\b/i.test(headers.connection ?? '');
          if (reusable) {
            conn.since = performance.now();
            idle = conn;
          } else socket.destroy();
          resolve(value);
        }
      };
      // Once, however many 100s come; the pump stops when the exchange ends (an early answer).
      const sendBody = () => {
        bodyStarted = true;
        let i = 0;
        const pump = () => {
          while (i < body.length && !settled) {
            if (!socket.write(body[i++])) return socket.once('drain', pump);
          }
        };
        pump();
      };
      conn.closed = (error) => settle(error);
      conn.reader = responseReader({
        onInformational: (code) => {
          if (code === 100 && !bodyStarted) sendBody();
        },
        onHead: (code, h) => {
          status = code;
          headers = h;
        },
        onBody: (buf, start, end) => {
          if ((status === 200 || status === 206) && onBody) onBody(buf, start, end);
          else kept.push(Buffer.from(buf.subarray(start, end)));
        },
        onEnd: () => {
          if (status !== 200 && status !== 206) settle(s3Error(status, Buffer.concat(kept)));
          else settle(undefined, { headers, body: kept.length ? Buffer.concat(kept) : undefined });
        },
      });
      socket.write(requestHead(request, keepAlive ? 'keep-alive' : 'close'));
      if (body !== undefined && !expectContinue) for (const piece of body) socket.write(piece);
    });
  }

  async function putObject(bucket, key, upload) {
    const request = requests.putObject(bucket, key, upload.length);
    const { headers } = await exchange(request, { body: upload.plan });
    return { etag: headers.etag };
  }

  /**
   * `range` ({ start, end }, inclusive): a ranged GetObject (206). `crc`: the CRC32 to continue
   * from when verifying, so ranges read in order check a whole object.
   */
  async function getObject(bucket, key, { verify = false, range, crc: crcFrom = 0 } = {}) {
    let size = 0;
    let crc = crcFrom;
    const onBody = verify
      ? (buf, start, end) => {
          size += end - start;
          crc = crc32(buf.subarray(start, end), crc);
        }
      : (_buf, start, end) => {
          size += end - start;
        };
    const { headers } = await exchange(requests.getObject(bucket, key, range), { onBody });
    const checksum = headers['x-amz-checksum-crc32'];
    if (!verify) return { size, checksum };
    if (range) return { size, crcValue: crc };
    if (checksum !== undefined && crcBase64(crc) !== checksum) {
      throw new Error(`GetObject: CRC32 ${crcBase64(crc)} is not the ${checksum} sent`);
    }
    return { size, checksum, crc: crcBase64(crc) };
  }

  async function createMultipartUpload(bucket, key) {
    const { body } = await exchange(requests.createMultipartUpload(bucket, key), {});
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(body?.toString('utf8') ?? '')?.[1];
    if (!uploadId) throw new Error('CreateMultipartUpload: no UploadId in the answer');
    return uploadId;
  }

  async function uploadPart(bucket, key, uploadId, partNumber, part) {
    const request = requests.uploadPart(bucket, key, uploadId, partNumber, part.length);
    const { headers } = await exchange(request, { body: part.plan });
    return headers.etag;
  }

  async function completeMultipartUpload(bucket, key, uploadId, etags) {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      etags
        .map((etag, i) => `<Part><ETag>${etag}</ETag><PartNumber>${i + 1}</PartNumber></Part>`)
        .join('') +
      '</CompleteMultipartUpload>';
    const request = requests.completeMultipartUpload(bucket, key, uploadId, xml);
    const { body } = await exchange(request, { body: [Buffer.from(xml)] });
    const text = body?.toString('utf8') ?? '';
    // S3 may answer 200 with an error document once the body has started.
    if (!text.includes('<CompleteMultipartUploadResult'))
      throw s3Error(200, body ?? Buffer.alloc(0));
    return { etag: /<ETag>([^<]+)<\/ETag>/.exec(text)?.[1]?.replace(/&quot;/g, '"') };
  }

  return {
    putObject,
    getObject,
    createMultipartUpload,
    uploadPart,
    completeMultipartUpload,
    destroy: () => {
      idle?.socket.destroy();
      idle = undefined;
    },
  };
}

/**
 * A multipart upload's parts of `partBytes` (the last shorter), each framed as `prepareUpload`
 * frames a PutObject body; parts with the same bytes share their buffers. Built before the timed
 * window; `crc` is the whole object's CRC32, to check the download against.
 */
export function prepareMultipart(block, bytes, partBytes) {
  const parts = [];
  const planOf = new Map();
  for (let at = 0; at < bytes; at += partBytes) {
    const length = Math.min(partBytes, bytes - at);
    if (!planOf.has(length)) planOf.set(length, prepareUpload(block, length));
    parts.push(planOf.get(length));
  }
  return { length: bytes, crc: prepareUpload(block, bytes).crc, parts };
}

/**
 * A multipart upload as the AWS CLI (s3transfer) sends it: CreateMultipartUpload, the parts by
 * `clients.length` connections at once (each taking the next part as it finishes one), then
 * CompleteMultipartUpload. Resolves to the object's ETag.
 */
export async function putObjectMultipart(clients, bucket, key, upload) {
  const uploadId = await clients[0].createMultipartUpload(bucket, key);
  const etags = new Array(upload.parts.length);
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < upload.parts.length) {
        const i = next++;
        etags[i] = await client.uploadPart(bucket, key, uploadId, i + 1, upload.parts[i]);
      }
    }),
  );
  return clients[0].completeMultipartUpload(bucket, key, uploadId, etags);
}

/**
 * A download by ranged GetObjects of `rangeBytes`, `clients.length` in flight, as s3transfer does
 * it; counted by bytes. Resolves to the bytes received.
 */
export async function getObjectRanges(clients, bucket, key, size, rangeBytes) {
  let next = 0;
  let received = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next * rangeBytes < size) {
        const start = next++ * rangeBytes;
        const end = Math.min(size, start + rangeBytes) - 1;
        // Not `received += await ...`: that reads `received` before the await.
        const { size: got } = await client.getObject(bucket, key, { range: { start, end } });
        received += got;
      }
    }),
  );
  return received;
}

/** The same ranges read one after another, untimed, their CRC32 continued across them. */
export async function verifyObjectRanges(client, bucket, key, size, rangeBytes) {
  let crc = 0;
  let received = 0;
  for (let start = 0; start < size; start += rangeBytes) {
    const end = Math.min(size, start + rangeBytes) - 1;
    const got = await client.getObject(bucket, key, { verify: true, range: { start, end }, crc });
    if (got.size !== end - start + 1) throw new Error(`range ${start}-${end}: ${got.size} bytes`);
    crc = got.crcValue;
    received += got.size;
  }
  return { size: received, crc };
}
