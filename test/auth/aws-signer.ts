/**
 * Signs requests with the AWS SDK's own SigV4 signer (@smithy/signature-v4, which arrived with
 * @aws-sdk/client-lambda), so the verifier is tested against what real clients send, not against
 * a second copy of our own reading of the spec.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import type { SigV4Request } from '../../src/platform/auth/sigv4.js';

/** The hash the signer asks for: SHA-256, or HMAC-SHA256 when given a key. */
export class NodeSha256 {
  readonly #hash;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.#hash.digest();
  }
}

function bytes(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export interface ToSign {
  method?: string;
  /** As it goes on the wire: segments already percent-encoded (the SDK encodes FunctionName). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Buffer;
  host?: string;
}

export async function signRequest(
  input: ToSign,
  opts: {
    accessKeyId: string;
    secret: string;
    at: number;
    region?: string;
    service?: string;
  },
): Promise<SigV4Request> {
  const host = input.host ?? '127.0.0.1:8642';
  const body = Buffer.from(input.body ?? '');
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secret },
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'lambda',
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: input.method ?? 'POST',
      protocol: 'http:',
      hostname: host.split(':')[0]!,
      path: input.path,
      query: input.query ?? {},
      headers: {
        host,
        'content-type': 'application/json',
        'content-length': String(body.length),
        ...input.headers,
      },
      body,
    },
    { signingDate: new Date(opts.at) },
  );
  const query = Object.entries(input.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  return {
    method: signed.method,
    target: query ? `${input.path}?${query}` : input.path,
    headers,
    body,
  };
}
