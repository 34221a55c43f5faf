/**
 * Decodes an `aws-chunked` body as it streams: `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`
 * repeated, a zero-size chunk, then optional trailers (`x-amz-checksum-crc32:<b64>`) and a blank
 * line. Chunk data is passed on as it arrives, never gathered into a whole chunk or object; a
 * chunk's signature is checked when its last byte has gone by, so whoever consumes the data must
 * discard it when the stream throws (the S3 object writer does: temp file, then rename).
 *
 * Spec: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureChain } from '../../auth/sigv4.js';
import { AwsError } from '../aws-error.js';

export interface ChunkedOptions {
  /** Present when each chunk carries a signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD*). */
  chain?: SignatureChain;
  /** Called with the trailers once the body has ended, before the stream finishes. */
  onTrailers?: (trailers: Map<string, string>) => void;
}

const emptyHash = createHash('sha256').digest('hex');
/** Chunk header and trailer lines are short; a longer one is not aws-chunked. */
const maxLineBytes = 4096;
const crlf = Buffer.from('\r\n');

export async function* decodeAwsChunked(
  source: AsyncIterable<Buffer>,
  opts: ChunkedOptions = {},
): AsyncGenerator<Buffer> {
  const chain = opts.chain;
  let previous = chain?.seedSignature ?? '';
  let pending: Buffer = Buffer.alloc(0);
  let state: 'header' | 'data' | 'data-end' | 'trailer' | 'done' = 'header';
  let remaining = 0;
  let chunkSignature = '';
  let chunkHash = chain ? createHash('sha256') : undefined;
  const trailers = new Map<string, string>();
  const trailerLines: string[] = [];

  const verifyChunk = (dataHash: string) => {
    if (!chain) return;
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      chain.amzDate,
      chain.scope,
      previous,
      emptyHash,
      dataHash,
    ].join('\n');
    expectSignature(chain, stringToSign, chunkSignature);
    previous = chunkSignature;
  };

  for await (const piece of source) {
    pending = pending.length === 0 ? piece : Buffer.concat([pending, piece]);
    while (pending.length > 0 && state !== 'done') {
      if (state === 'data') {
        const take = Math.min(remaining, pending.length);
        const data = pending.subarray(0, take);
        pending = pending.subarray(take);
        remaining -= take;
        chunkHash?.update(data);
        yield data;
        if (remaining === 0) state = 'data-end';
        continue;
      }
      if (state === 'data-end') {
        if (pending.length < 2) break;
        if (!pending.subarray(0, 2).equals(crlf))
          throw malformed('chunk data is not followed by CRLF');
        pending = pending.subarray(2);
        verifyChunk(chunkHash ? chunkHash.digest('hex') : '');
        chunkHash = chain ? createHash('sha256') : undefined;
        state = 'header';
        continue;
      }
      const end = pending.indexOf(crlf);
      if (end < 0) {
        if (pending.length > maxLineBytes) throw malformed('chunk header line too long');
        break;
      }
      const line = pending.subarray(0, end).toString('latin1');
      pending = pending.subarray(end + 2);
      if (state === 'header') {
        const [sizeText = '', ...extensions] = line.split(';');
        if (!/^[0-9a-fA-F]{1,15}$/.test(sizeText.trim())) throw malformed('bad chunk size');
        remaining = Number.parseInt(sizeText.trim(), 16);
        const signature = extensions
          .map((e) => e.trim())
          .find((e) => e.startsWith('chunk-signature='));
        chunkSignature = signature?.slice('chunk-signature='.length) ?? '';
        if (chain && !/^[0-9a-f]{64}$/.test(chunkSignature)) {
          throw signatureMismatch();
        }
        if (remaining === 0) {
          verifyChunk(emptyHash);
          state = 'trailer';
        } else {
          state = 'data';
        }
        continue;
      }
      // Trailers, up to the blank line that ends the body.
      if (line === '') {
        verifyTrailers(chain, previous, trailers, trailerLines);
        opts.onTrailers?.(trailers);
        state = 'done';
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw malformed('bad trailer line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      trailers.set(name, value);
      if (name !== 'x-amz-trailer-signature') trailerLines.push(`${name}:${value}\n`);
    }
  }
  if (state === 'trailer' && pending.length === 0) {
    // Some clients end the body right after the last chunk's CRLF, with no trailer section.
    verifyTrailers(chain, previous, trailers, trailerLines);
    opts.onTrailers?.(trailers);
    return;
  }
  if (state !== 'done') {
    throw new AwsError(400, 'IncompleteBody', 'The request body terminated unexpectedly');
  }
}

function verifyTrailers(
  chain: SignatureChain | undefined,
  previous: string,
  trailers: Map<string, string>,
  lines: string[],
): void {
  if (!chain?.payloadHash.endsWith('-TRAILER') || lines.length === 0) return;
  const signature = trailers.get('x-amz-trailer-signature') ?? '';
  const stringToSign = [
    'AWS4-HMAC-SHA256-TRAILER',
    chain.amzDate,
    chain.scope,
    previous,
    createHash('sha256').update(lines.join('')).digest('hex'),
  ].join('\n');
  expectSignature(chain, stringToSign, signature);
}

function expectSignature(chain: SignatureChain, stringToSign: string, signature: string): void {
  const expected = createHmac('sha256', chain.signingKey).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw signatureMismatch();
  }
}

function signatureMismatch(): AwsError {
  return new AwsError(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.',
  );
}

function malformed(why: string): AwsError {
  return new AwsError(400, 'InvalidRequest', `Malformed aws-chunked body: ${why}`);
}
