/**
 * The body of a SigV4 request whose signature covered only the declared payload hash (S3): it is
 * checked while it streams, and the stream throws at its end (or at a bad chunk) when the bytes
 * are not what was signed or declared. Consumers write to a temporary place and keep the result
 * only when the stream ended cleanly.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type SignatureChain, unsignedPayload } from '../../auth/sigv4.js';
import { AwsError } from '../aws-error.js';
import { decodeAwsChunked } from './aws-chunked.js';
import { type Checksum, createChecksum, isVerifiableChecksum } from './checksum.js';

export interface VerifiedPayload {
  /** The decoded bytes (aws-chunked framing removed). */
  stream: AsyncIterable<Buffer>;
  /**
   * The `x-amz-checksum-*` the client sent (header or trailer), once the stream has ended;
   * verified when Nimbus knows the algorithm.
   */
  checksum(): { name: string; value: string } | undefined;
}

const signedStreaming = new Set([
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
]);
const unsignedStreaming = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

export function verifiedPayload(
  source: AsyncIterable<Buffer>,
  headers: IncomingHttpHeaders,
  chain: SignatureChain,
): VerifiedPayload {
  const declaredHash = chain.payloadHash;
  let decoded: AsyncIterable<Buffer>;
  let trailers = new Map<string, string>();
  const onTrailers = (t: Map<string, string>) => {
    trailers = t;
  };
  if (signedStreaming.has(declaredHash)) {
    decoded = decodeAwsChunked(source, { chain, onTrailers });
  } else if (declaredHash === unsignedStreaming) {
    decoded = decodeAwsChunked(source, { onTrailers });
  } else if (declaredHash === unsignedPayload) {
    decoded = source;
  } else if (/^[0-9a-f]{64}$/.test(declaredHash)) {
    decoded = hashChecked(source, declaredHash);
  } else {
    throw new AwsError(
      400,
      'InvalidArgument',
      `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ` +
        `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] or a SHA-256 hex digest`,
    );
  }

  const headerChecksum = Object.keys(headers).find(
    (h) =>
      h.startsWith('x-amz-checksum-') &&
      h !== 'x-amz-checksum-type' &&
      h !== 'x-amz-checksum-algorithm',
  );
  const trailerName = String(headers['x-amz-trailer'] ?? '')
    .trim()
    .toLowerCase();
  const checksumHeader =
    headerChecksum ?? (trailerName.startsWith('x-amz-checksum-') ? trailerName : undefined);
  const algorithm = checksumHeader?.slice('x-amz-checksum-'.length);
  const checksum: Checksum | undefined =
    algorithm !== undefined && isVerifiableChecksum(algorithm)
      ? createChecksum(algorithm)
      : undefined;
  const contentMd5 = headers['content-md5'];
  const decodedLength = headers['x-amz-decoded-content-length'];
  let claimed: string | undefined;

  async function* checked(): AsyncGenerator<Buffer> {
    const md5 = contentMd5 === undefined ? undefined : createHash('md5');
    let total = 0;
    for await (const piece of decoded) {
      total += piece.length;
      checksum?.update(piece);
      md5?.update(piece);
      yield piece;
    }
    if (typeof decodedLength === 'string' && Number(decodedLength) !== total) {
      throw new AwsError(
        400,
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
      );
    }
    if (md5 && md5.digest('base64') !== contentMd5) {
      throw new AwsError(
        400,
        'BadDigest',
        'The Content-MD5 you specified did not match what we received.',
      );
    }
    if (checksumHeader !== undefined) {
      const value =
        headerChecksum !== undefined
          ? String(headers[checksumHeader])
          : trailers.get(checksumHeader);
      if (value === undefined) {
        throw new AwsError(
          400,
          'InvalidRequest',
          `The trailer ${checksumHeader} was declared but not sent`,
        );
      }
      if (checksum && checksum.digest() !== value) {
        throw new AwsError(
          400,
          'BadDigest',
          `The ${algorithm!.toUpperCase()} you specified did not match the calculated checksum.`,
        );
      }
      claimed = value;
    }
  }

  return {
    stream: checked(),
    checksum: () =>
      claimed === undefined || algorithm === undefined
        ? undefined
        : { name: algorithm, value: claimed },
  };
}

async function* hashChecked(
  source: AsyncIterable<Buffer>,
  expected: string,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  for await (const piece of source) {
    hash.update(piece);
    yield piece;
  }
  if (hash.digest('hex') !== expected) {
    throw new AwsError(
      400,
      'XAmzContentSHA256Mismatch',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }
}
