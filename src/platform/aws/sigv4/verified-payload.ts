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
import {
  type Checksum,
  type ChecksumName,
  createChecksum,
  isVerifiableChecksum,
} from './checksum.js';

export interface VerifiedPayload {
  /** The decoded bytes (aws-chunked framing removed). */
  stream: AsyncIterable<Buffer>;
  /**
   * The `x-amz-checksum-*` the client sent (header or trailer), once the stream has ended;
   * verified when Nimbus knows the algorithm.
   */
  checksum(): { name: string; value: string } | undefined;
  /**
   * With `{ consumerDigests: true }`: the checksum algorithm the stream left for its consumer to
   * compute over the decoded bytes (the S3 object writer does, on its MD5 thread, beside the MD5
   * it needs anyway). Content-MD5 and the checksum are then checked by verifyDigests, which the
   * consumer calls once the stream has ended and before it keeps the bytes.
   */
  consumerChecksum?: ChecksumName;
  /**
   * Throws BadDigest when the consumer's digests do not match the Content-MD5 or checksum the
   * client declared; a no-op unless made with `{ consumerDigests: true }`.
   */
  verifyDigests(digests: { md5Hex: string; checksum?: string }): void;
}

export interface VerifiedPayloadOptions {
  /** The consumer hashes the body itself and calls verifyDigests (see VerifiedPayload). */
  consumerDigests?: boolean;
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
  opts: VerifiedPayloadOptions = {},
): VerifiedPayload {
  const deferred = opts.consumerDigests === true;
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
  const verifiable =
    algorithm !== undefined && isVerifiableChecksum(algorithm) ? algorithm : undefined;
  const checksum: Checksum | undefined =
    verifiable !== undefined && !deferred ? createChecksum(verifiable) : undefined;
  const contentMd5 = headers['content-md5'];
  const decodedLength = headers['x-amz-decoded-content-length'];
  let claimed: string | undefined;

  async function* checked(): AsyncGenerator<Buffer> {
    const md5 = contentMd5 === undefined || deferred ? undefined : createHash('md5');
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
    if (md5 && md5.digest('base64') !== contentMd5) throw badMd5();
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
      if (checksum && checksum.digest() !== value) throw badChecksum(algorithm!);
      claimed = value;
    }
  }

  return {
    stream: checked(),
    checksum: () =>
      claimed === undefined || algorithm === undefined
        ? undefined
        : { name: algorithm, value: claimed },
    ...(deferred && verifiable !== undefined ? { consumerChecksum: verifiable } : {}),
    verifyDigests: (digests) => {
      if (!deferred) return;
      if (
        contentMd5 !== undefined &&
        Buffer.from(digests.md5Hex, 'hex').toString('base64') !== contentMd5
      ) {
        throw badMd5();
      }
      // `claimed` is set once the stream has ended with the value the client sent.
      if (verifiable !== undefined && digests.checksum !== claimed) throw badChecksum(verifiable);
    },
  };
}

function badMd5(): AwsError {
  return new AwsError(
    400,
    'BadDigest',
    'The Content-MD5 you specified did not match what we received.',
  );
}

function badChecksum(algorithm: string): AwsError {
  return new AwsError(
    400,
    'BadDigest',
    `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
  );
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
