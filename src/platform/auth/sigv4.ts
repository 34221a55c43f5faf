/**
 * AWS Signature Version 4 verification, header form (`Authorization: AWS4-HMAC-SHA256 ...`), for
 * a non-S3 service: the canonical URI is the normalized path encoded a second time, the payload
 * hash is SHA-256 of the body. The signature is recomputed from the request as received and
 * compared in constant time.
 *
 * Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The error codes AWS answers with (403), read by the SDKs as the error's name. */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

export interface SigV4Request {
  method: string;
  /** The request target as received (`/path?query`), still percent-encoded. */
  target: string;
  /** Lower-case names; repeated headers as arrays (IncomingMessage.headersDistinct). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string }
  | { ok: false; type: SigV4ErrorType; message: string };

export interface SigV4Options {
  /** The only service the credential scope may name (`lambda`). */
  service: string;
  nowMs: number;
  /** How far X-Amz-Date may be from now; AWS allows 15 minutes either way. */
  maxSkewMs?: number;
  secretOf(accessKeyId: string): Promise<string | undefined>;
}

const algorithm = 'AWS4-HMAC-SHA256';
const fifteenMinutes = 15 * 60 * 1000;
const mismatch =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation ' +
  'for details.';

export async function verifySigV4(request: SigV4Request, opts: SigV4Options): Promise<SigV4Result> {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined || authorization.trim() === '') {
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const parsed = parseAuthorization(authorization);
  if (!parsed.ok) return parsed;
  const { credential, signedHeaders, signature } = parsed;

  const amzDate = headerValue(request.headers, 'x-amz-date');
  if (amzDate === undefined) {
    return fail(
      'IncompleteSignatureException',
      "Authorization header requires existence of an 'X-Amz-Date' header.",
    );
  }
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    return fail(
      'IncompleteSignatureException',
      `X-Amz-Date must be in the ISO-8601 basic format YYYYMMDD'T'HHMMSS'Z', not '${amzDate}'.`,
    );
  }
  if (credential.date !== amzDate.slice(0, 8)) {
    return fail(
      'InvalidSignatureException',
      'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from ' +
        `HTTP: '${credential.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (credential.service !== opts.service) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${opts.service}'.`,
    );
  }
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    // Unsigned, the date could be moved to dodge the skew check, and the request replayed
    // against another host.
    return fail(
      'InvalidSignatureException',
      "'Host' and 'X-Amz-Date' must be SignedHeaders in the AWS Authorization.",
    );
  }
  const skew = opts.maxSkewMs ?? fifteenMinutes;
  if (signedAt < opts.nowMs - skew) {
    return fail(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${basicDate(opts.nowMs - skew)} ` +
        `(${basicDate(opts.nowMs)} - ${skew / 60000} min.)`,
    );
  }
  if (signedAt > opts.nowMs + skew) {
    return fail(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ` +
        `${basicDate(opts.nowMs + skew)} (${basicDate(opts.nowMs)} + ${skew / 60000} min.)`,
    );
  }

  const secret = await opts.secretOf(credential.accessKeyId);
  if (secret === undefined) {
    return fail(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }

  const payloadHash = createHash('sha256').update(request.body).digest('hex');
  const claimedHash = headerValue(request.headers, 'x-amz-content-sha256');
  // A signed hash that is not the body's would let the body be swapped under a valid signature.
  if (claimedHash !== undefined && claimedHash !== payloadHash) {
    return fail(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  const canonical = canonicalRequest(request, signedHeaders, payloadHash);
  const scope = `${credential.date}/${credential.region}/${credential.service}/aws4_request`;
  const stringToSign = [
    algorithm,
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const key = signingKey(secret, credential.date, credential.region, credential.service);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('InvalidSignatureException', mismatch);
  }
  return { ok: true, accessKeyId: credential.accessKeyId, region: credential.region };
}

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

type ParsedAuthorization =
  | { ok: true; credential: Credential; signedHeaders: string[]; signature: string }
  | { ok: false; type: SigV4ErrorType; message: string };

function parseAuthorization(header: string): ParsedAuthorization {
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  if (scheme !== algorithm) {
    return fail(
      'IncompleteSignatureException',
      `Authorization header must use ${algorithm} (Signature Version 4), not '${scheme}'.`,
    );
  }
  const params = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !params.get(k));
  if (missing.length > 0) {
    return fail(
      'IncompleteSignatureException',
      missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '),
    );
  }
  const scope = params.get('Credential')!.split('/');
  const [accessKeyId, date, region, service, terminator] = scope;
  if (scope.length !== 5 || !accessKeyId || !region || !service || !/^\d{8}$/.test(date!)) {
    return fail(
      'IncompleteSignatureException',
      "Authorization header's Credential must be <access key id>/<YYYYMMDD>/<region>/" +
        '<service>/aws4_request.',
    );
  }
  if (terminator !== 'aws4_request') {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`,
    );
  }
  const signature = params.get('Signature')!;
  if (!/^[0-9a-f]{64}$/.test(signature)) return fail('InvalidSignatureException', mismatch);
  return {
    ok: true,
    credential: { accessKeyId, date: date!, region, service },
    signedHeaders: params.get('SignedHeaders')!.split(';'),
    signature,
  };
}

/**
 * Method, canonical URI, canonical query, the signed headers (name:value lines), the list of
 * signed header names, and the payload hash, joined by newlines.
 */
function canonicalRequest(request: SigV4Request, signedHeaders: string[], payloadHash: string) {
  const q = request.target.indexOf('?');
  const rawPath = q < 0 ? request.target : request.target.slice(0, q);
  const rawQuery = q < 0 ? '' : request.target.slice(q + 1);
  const headerLines = signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(request, name)}\n`,
  );
  return [
    request.method.toUpperCase(),
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    headerLines.join(''),
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/**
 * Services other than S3 normalize the path (empty and `.` segments dropped, `..` removes the
 * one before) and then percent-encode it as it arrived, already encoded: `%3A` is signed as
 * `%253A`. That is what the SDKs do when they sign, so a name:alias or an ARN in the path
 * verifies as sent.
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return `/${segments.map(uriEncode).join('/')}${trailing}`;
}

/** Each name and value decoded, then encoded the AWS way; sorted by name, then by value. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([uriEncode(percentDecode(name)), uriEncode(percentDecode(value))]);
  }
  pairs.sort(([an, av], [bn, bv]) => compare(an, bn) || compare(av, bv));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** RFC 3986 unreserved characters stay, everything else is %XX (upper-case hex) per UTF-8 byte. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalHeaderValue(request: SigV4Request, name: string): string {
  const raw = request.headers[name];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',');
}

function headerValue(headers: SigV4Request['headers'], name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  let key = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) {
    key = createHmac('sha256', key).update(part).digest();
  }
  return key;
}

function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `20240102T030405Z`, as X-Amz-Date is written. */
export function basicDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A malformed escape is signed as sent; the signer would have done the same or failed.
    return text;
  }
}

/** Byte order (code units), as AWS sorts; localeCompare would not be. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function fail(
  type: SigV4ErrorType,
  message: string,
): { ok: false; type: SigV4ErrorType; message: string } {
  return { ok: false, type, message };
}
