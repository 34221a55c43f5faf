// A lean S3 load generator for large objects over node:http: the requests `@aws-sdk/client-s3` v3
// sends for a streamed PutObject and a GetObject (lib/s3-sdk-requests.mjs: the same headers, the
// same SigV4 signature, the same body framing and checksums) on a keep-alive node:http socket,
// without the SDK's middleware and stream wrappers. Against a sink serving from memory (load 15)
// the SDK cost the bench process 2.6-2.8 ms of CPU per MiB downloaded, this client 1.5-2.1 (Node's
// HTTP client and the CRC32 check are most of both); uploads cost both about 1 ms/MiB. The bench
// shares the server's 2 cores, so what the client spends the server cannot: the headline rows
// come from lib/s3-raw-client.mjs, this client's rows stay beside them, named so.
import { Agent, request } from 'node:http';
import { crc32 } from 'node:zlib';
import {
  awsChunkedEndParts,
  awsChunkParts,
  crcBase64,
  s3Error,
  s3SdkRequests,
} from './s3-sdk-requests.mjs';

/**
 * A client for one endpoint and key: `putObject(bucket, key, source, length)` streams the pieces of
 * `source` (a Readable of Buffers, `length` bytes in all) and resolves to the ETag;
 * `getObject(bucket, key)` reads the object, checks its CRC32 and resolves to its size.
 */
export function leanS3Client(url, credentials, { region = 'us-east-1' } = {}) {
  const requests = s3SdkRequests(url, credentials, { region });
  const { hostname, port } = requests;
  // As the SDK's handler: GETs on keep-alive sockets, each 100-continue PUT on a socket of its own.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const putAgent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

  function collectError(res, reject) {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => reject(s3Error(res.statusCode, Buffer.concat(chunks))));
  }

  function putObject(bucket, key, source, length) {
    const { method, target, headers } = requests.putObject(bucket, key, length);
    return new Promise((resolve, reject) => {
      const req = request({ agent: putAgent, host: hostname, port, method, path: target, headers });
      req.on('error', reject);
      req.on('response', (res) => {
        res.on('error', reject);
        if (res.statusCode !== 200) return collectError(res, reject);
        res.resume();
        res.on('end', () => resolve({ etag: res.headers.etag }));
      });
      req.once('continue', () => streamBody(req, source));
    });
  }

  /**
   * aws-chunked framing, one chunk per piece the source pushes (read as 'data' events, as the SDK
   * does: an async iterator would join the pieces buffered), each in three HTTP chunks, the CRC32
   * as the trailer.
   */
  function streamBody(req, source) {
    let crc = 0;
    source.on('data', (piece) => {
      if (piece.length === 0) return;
      crc = crc32(piece, crc);
      let more = true;
      for (const part of awsChunkParts(piece.length)) more = req.write(part ?? piece);
      if (!more) {
        source.pause();
        req.once('drain', () => source.resume());
      }
    });
    source.on('end', () => {
      for (const part of awsChunkedEndParts(crc)) req.write(part);
      req.end();
    });
    source.on('error', (error) => req.destroy(error));
  }

  function getObject(bucket, key) {
    const { method, target, headers } = requests.getObject(bucket, key);
    return new Promise((resolve, reject) => {
      const req = request({ agent, host: hostname, port, method, path: target, headers }, (res) => {
        if (res.statusCode !== 200) return collectError(res, reject);
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
      });
      req.on('error', reject);
      req.end();
    });
  }

  return {
    putObject,
    getObject,
    destroy: () => {
      agent.destroy();
      putAgent.destroy();
    },
  };
}
