/**
 * AWS Signature Version 4 verification, header form (`Authorization: AWS4-HMAC-SHA256 ...`) and
 * presigned query form (`X-Amz-Credential=...&X-Amz-Signature=...`). For services other than S3
 * the canonical URI is the normalized path encoded a second time and the payload hash is SHA-256
 * of the body; S3 encodes the path once, without normalizing, and signs the hash the client
 * declares in `x-amz-content-sha256` (the body is checked against it while it streams, see
 * src/platform/aws/sigv4/). The signature is recomputed from the request as received and
 * compared in constant time.
 *
 * Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * S3: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerBytes } from '../http/header-bytes.js';
import { hmacSha256Of, sha256Hex } from './sha256-hex.js';

/** The error codes AWS answers with (403), read by the SDKs as the error's name. */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

/** Why a request failed, for protocols whose error codes split finer than SigV4ErrorType. */
export type SigV4FailReason =
  | 'missing'
  | 'malformed'
  | 'mismatch'
  | 'expired'
  | 'skew'
  | 'unknown-key';

export interface SigV4Request {
  method: string;
  /** The request target as received (`/path?query`), still percent-encoded. */
  target: string;
  /** Lower-case names; repeated headers as arrays (IncomingMessage.headersDistinct). */
  headers: Record<string, string | string[] | undefined>;
  /**
   * The whole body, hashed into the signature. Absent for S3, which signs the declared
   * `x-amz-content-sha256` instead, so a body can stream.
   */
  body?: Buffer;
}

/** What verifying the signatures of an aws-chunked body's chunks continues from. */
export interface SignatureChain {
  signingKey: Buffer;
  /** The request's signature: the seed of the chunk signature chain. */
  seedSignature: string;
  amzDate: string;
  scope: string;
  /** The payload hash signed in the canonical request (hex, or UNSIGNED-PAYLOAD, STREAMING-...). */
  payloadHash: string;
}

export type SigV4Failure = {
  ok: false;
  type: SigV4ErrorType;
  message: string;
  reason: SigV4FailReason;
};

export type SigV4Result =
  | { ok: true; accessKeyId: string; region: string; chain: SignatureChain }
  | SigV4Failure;

export interface SigV4Options {
  /** The only service the credential scope may name (`lambda`, `s3`). */
  service: string;
  nowMs: number;
  /** How far X-Amz-Date may be from now; AWS allows 15 minutes either way. */
  maxSkewMs?: number;
  /** `sessionToken`: the request's X-Amz-Security-Token (header, or presigned query). */
  secretOf(accessKeyId: string, sessionToken?: string): Promise<string | undefined>;
}

const algorithm = 'AWS4-HMAC-SHA256';
const fifteenMinutes = 15 * 60 * 1000;
/** The longest a presigned URL may live: 7 days. */
const maxPresignedSeconds = 7 * 24 * 60 * 60;
export const unsignedPayload = 'UNSIGNED-PAYLOAD';
const mismatch =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation ' +
  'for details.';

export async function verifySigV4(request: SigV4Request, opts: SigV4Options): Promise<SigV4Result> {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined || authorization.trim() === '') {
    const query = presignedParams(request.target);
    if (query !== undefined) return verifyPresigned(request, query, opts);
    return fail('MissingAuthenticationTokenException', 'Missing Authentication Token', 'missing');
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
  const scopeFailure = checkScope(credential, amzDate, opts.service);
  if (scopeFailure) return scopeFailure;
  // Over HTTP/2 the SDKs sign `:authority` in place of Host (a pseudo-header no HTTP/1.1 request
  // can carry: ':' is not allowed in a header name there).
  const hostSigned = signedHeaders.includes('host') || signedHeaders.includes(':authority');
  if (!hostSigned || !signedHeaders.includes('x-amz-date')) {
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
      'skew',
    );
  }
  if (signedAt > opts.nowMs + skew) {
    return fail(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ` +
        `${basicDate(opts.nowMs + skew)} (${basicDate(opts.nowMs)} + ${skew / 60000} min.)`,
      'skew',
    );
  }

  let payloadHash: string;
  const claimedHash = headerValue(request.headers, 'x-amz-content-sha256');
  if (request.body === undefined) {
    if (claimedHash === undefined) {
      return fail(
        'IncompleteSignatureException',
        'Missing required header for this request: x-amz-content-sha256',
      );
    }
    payloadHash = claimedHash;
  } else {
    payloadHash = sha256Hex(request.body);
    // A signed hash that is not the body's would let the body be swapped under a valid signature.
    if (claimedHash !== undefined && claimedHash !== payloadHash) {
      return fail(
        'InvalidSignatureException',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        'mismatch',
      );
    }
  }
  const rawQuery = splitTarget(request.target).rawQuery;
  return checkSignature(request, opts, {
    credential,
    signedHeaders,
    signature,
    amzDate,
    rawQuery,
    payloadHash,
  });
}

interface Signed {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** The query as it takes part in the canonical request. */
  rawQuery: string;
  payloadHash: string;
}

async function checkSignature(
  request: SigV4Request,
  opts: SigV4Options,
  signed: Signed,
): Promise<SigV4Result> {
  const { credential, signature, amzDate, payloadHash } = signed;
  const secret = await opts.secretOf(credential.accessKeyId, sessionTokenOf(request));
  if (secret === undefined) {
    return fail(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      'unknown-key',
    );
  }
  const scope = `${credential.date}/${credential.region}/${credential.service}/aws4_request`;
  const key = signingKey(secret, credential.date, credential.region, credential.service);
  const given = Buffer.from(signature, 'hex');
  const s3 = credential.service === 's3';
  const matches: SignatureCheck = (fold, asWireBytes) => {
    const canonical = canonicalRequest(request, signed, s3, fold);
    const hashed = canonicalHash(canonical, asWireBytes);
    if (hashed === undefined) return false;
    const expected = signerOf(key)(`${algorithm}\n${amzDate}\n${scope}\n${hashed}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!matches(foldLikeEcmaScript, false) && !otherCanonicalFormMatches(request, signed, matches)) {
    return fail('InvalidSignatureException', mismatch, 'mismatch');
  }
  return {
    ok: true,
    accessKeyId: credential.accessKeyId,
    region: credential.region,
    chain: { signingKey: key, seedSignature: signature, amzDate, scope, payloadHash },
  };
}

function checkScope(
  credential: Credential,
  amzDate: string,
  service: string,
): SigV4Failure | undefined {
  if (credential.date !== amzDate.slice(0, 8)) {
    return fail(
      'InvalidSignatureException',
      'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from ' +
        `HTTP: '${credential.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (credential.service !== service) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${service}'.`,
    );
  }
  return undefined;
}

type PresignedParams = Map<string, string>;

/** The decoded query when it carries a presigned signature (X-Amz-Credential), else undefined. */
function presignedParams(target: string): PresignedParams | undefined {
  const { rawQuery } = splitTarget(target);
  if (!rawQuery.includes('X-Amz-Credential=')) return undefined;
  const params: PresignedParams = new Map();
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(percentDecode(part.slice(0, eq)), percentDecode(part.slice(eq + 1)));
  }
  return params;
}

/**
 * The query form: the signature covers every query parameter but X-Amz-Signature itself, and
 * the request is good from X-Amz-Date for X-Amz-Expires seconds (at most 7 days).
 */
async function verifyPresigned(
  request: SigV4Request,
  params: PresignedParams,
  opts: SigV4Options,
): Promise<SigV4Result> {
  const missing = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Expires',
  ].filter((name) => !params.get(name));
  if (missing.length > 0) {
    return fail(
      'IncompleteSignatureException',
      `Query-string authentication requires the ${missing.join(', ')} parameters`,
      'malformed',
    );
  }
  if (params.get('X-Amz-Algorithm') !== algorithm) {
    return fail(
      'IncompleteSignatureException',
      `X-Amz-Algorithm only supports "${algorithm}"`,
      'malformed',
    );
  }
  const credential = parseCredential(params.get('X-Amz-Credential')!);
  if (!credential.ok) return credential;
  const amzDate = params.get('X-Amz-Date')!;
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) {
    return fail('IncompleteSignatureException', `X-Amz-Date must be in the ISO8601 Long Format`);
  }
  const scopeFailure = checkScope(credential.credential, amzDate, opts.service);
  if (scopeFailure) return scopeFailure;
  const expiresText = params.get('X-Amz-Expires')!;
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : Number.NaN;
  if (!(expires >= 1 && expires <= maxPresignedSeconds)) {
    return fail(
      'IncompleteSignatureException',
      `X-Amz-Expires must be between 1 and ${maxPresignedSeconds} seconds`,
      'malformed',
    );
  }
  if (opts.nowMs > signedAt + expires * 1000) {
    return fail('InvalidSignatureException', 'Request has expired', 'expired');
  }
  const skew = opts.maxSkewMs ?? fifteenMinutes;
  if (signedAt > opts.nowMs + skew) {
    return fail('InvalidSignatureException', 'Request is not valid yet', 'skew');
  }
  const signedHeaders = params.get('X-Amz-SignedHeaders')!.split(';');
  if (!signedHeaders.includes('host')) {
    return fail(
      'InvalidSignatureException',
      "'Host' must be a SignedHeader in the AWS Authorization.",
      'malformed',
    );
  }
  const signature = params.get('X-Amz-Signature')!;
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return fail('InvalidSignatureException', mismatch, 'mismatch');
  }
  const rawQuery = splitTarget(request.target)
    .rawQuery.split('&')
    .filter((part) => !part.startsWith('X-Amz-Signature='))
    .join('&');
  // S3 presigned URLs leave the body unsigned: the URL is handed to whoever uploads.
  const declared = headerValue(request.headers, 'x-amz-content-sha256');
  const payloadHash =
    request.body === undefined ? (declared ?? unsignedPayload) : sha256Hex(request.body);
  return checkSignature(request, opts, {
    credential: credential.credential,
    signedHeaders,
    signature,
    amzDate,
    rawQuery,
    payloadHash,
  });
}

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

type ParsedAuthorization =
  | { ok: true; credential: Credential; signedHeaders: string[]; signature: string }
  | SigV4Failure;

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
  // `name=value` parts split at commas; of a name given twice, the last counts.
  let credentialText = '';
  let signedHeadersText = '';
  let signature = '';
  const params = trimmed.slice(space + 1);
  for (let start = 0; start <= params.length; ) {
    let end = params.indexOf(',', start);
    if (end < 0) end = params.length;
    const eq = params.indexOf('=', start);
    if (eq > start && eq < end) {
      const name = params.slice(start, eq).trim();
      const value = params.slice(eq + 1, end).trim();
      if (name === 'Credential') credentialText = value;
      else if (name === 'SignedHeaders') signedHeadersText = value;
      else if (name === 'Signature') signature = value;
    }
    start = end + 1;
  }
  if (credentialText === '' || signedHeadersText === '' || signature === '') {
    const given = {
      Credential: credentialText,
      SignedHeaders: signedHeadersText,
      Signature: signature,
    };
    const missing = Object.entries(given).filter(([, value]) => value === '');
    return fail(
      'IncompleteSignatureException',
      missing.map(([k]) => `Authorization header requires '${k}' parameter.`).join(' '),
    );
  }
  const credential = parseCredential(credentialText);
  if (!credential.ok) return credential;
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return fail('InvalidSignatureException', mismatch, 'mismatch');
  }
  return {
    ok: true,
    credential: credential.credential,
    signedHeaders: signedHeadersText.split(';'),
    signature,
  };
}

/** `<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request`. */
function parseCredential(text: string): { ok: true; credential: Credential } | SigV4Failure {
  const scope = text.split('/');
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
      'malformed',
    );
  }
  return { ok: true, credential: { accessKeyId, date: date!, region, service } };
}

/**
 * Method, canonical URI, canonical query, the signed headers (name:value lines), the list of
 * signed header names, and the payload hash, joined by newlines.
 */
function canonicalRequest(request: SigV4Request, signed: Signed, s3: boolean, fold: Folding) {
  const { signedHeaders, payloadHash, rawQuery } = signed;
  const rawPath = splitTarget(request.target).path;
  // Concatenated, not joined from arrays: this runs on every signed request.
  let headerLines = '';
  for (const name of signedHeaders) {
    headerLines += `${name}:${canonicalHeaderValue(request, name, fold)}\n`;
  }
  const uri = s3 ? s3CanonicalUri(rawPath) : canonicalUri(rawPath);
  return (
    `${request.method.toUpperCase()}\n${uri}\n${canonicalQuery(rawQuery)}\n` +
    `${headerLines}\n${signedHeaders.join(';')}\n${payloadHash}`
  );
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

/**
 * S3 signs the path as is, encoded once and never normalized: `a//b/../c` names a key with
 * those characters. Each segment is decoded and encoded the AWS way, so a client that escapes
 * a few more or fewer characters than the SDK still verifies.
 */
export function s3CanonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment)))
    .join('/');
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

function canonicalHeaderValue(request: SigV4Request, name: string, fold: Folding): string {
  const raw = request.headers[name];
  if (raw === undefined) return '';
  if (!Array.isArray(raw)) return fold(raw);
  if (raw.length === 1) return fold(raw[0]!);
  return raw.map(fold).join(',');
}

/**
 * SigV4's "Trimall" (trim, runs of spaces to one) as a signer applies it to a header value. The
 * SDKs agree on spaces, tabs and line ends but not past them: botocore folds every character
 * Python calls whitespace (`' '.join(value.split())`: also \x1c-\x1f, \x85), the JS SDK v3 only
 * CR and LF (to spaces) and runs of spaces and tabs, and ECMAScript's `\s` (the first one
 * tried) lies between (\v, \f, NBSP). A value with such a character (NBSP in user metadata
 * typed in French, say) verifies when any of them signed it.
 */
type Folding = (value: string) => string;

/** What ECMAScript's `\s` folds: a run of it, or any but a lone space. */
const foldable = /\s\s|[^\S ]/;

/** Trimmed, inner runs of `\s` folded to one space; most values need neither. */
function foldLikeEcmaScript(value: string): string {
  const trimmed = value.trim();
  return foldable.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed;
}

/** @smithy/signature-v4 (the JS SDK v3): CR/LF to spaces, runs of spaces and tabs to one. */
function foldLikeSmithy(value: string): string {
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** Python's str.split() whitespace, as botocore joins it back with single spaces. */
const pythonWhitespace =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Python's whitespace includes \x1c-\x1f.
  /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;

function foldLikeBotocore(value: string): string {
  return value.replace(pythonWhitespace, ' ').replace(/^ | $/g, '');
}

/** Where the canonical forms can differ: past ASCII, or ASCII whitespace past space, tab, CR, LF. */
const contested =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the separators Python counts as whitespace.
  /[^\x00-\x7f]|[\v\f\x1c-\x1f]/;

/** Whether the canonical request made with `fold`, hashed as `asWireBytes` says, was signed. */
type SignatureCheck = (fold: Folding, asWireBytes: boolean) => boolean;

/**
 * The canonical request's SHA-256. A signer hashes its canonical string as UTF-8. Node hands the
 * server each header byte as one character (latin1), so a value the JS SDK sent as UTF-8 (it
 * does: `é` goes as C3 A9) is its signer's bytes only when taken back as bytes (`asWireBytes`),
 * while one botocore sent as latin-1 (Python's http.client: `é` goes as E9) is its signer's
 * string as it stands. Both are tried where a value goes past ASCII; a string with characters
 * past 0xFF did not come off the wire and has no byte reading.
 */
function canonicalHash(canonical: string, asWireBytes: boolean): string | undefined {
  if (!asWireBytes) return sha256Hex(canonical);
  const bytes = headerBytes(canonical);
  return bytes && sha256Hex(bytes);
}

/**
 * After a mismatch under the first canonical form (ECMAScript's folding, the string as UTF-8):
 * the others, only when a signed header's value holds what they treat differently (otherwise
 * they give the same canonical request). Each is a full signature check, so this widens
 * nothing but the canonical form of such values.
 */
function otherCanonicalFormMatches(
  request: SigV4Request,
  signed: Signed,
  matches: SignatureCheck,
): boolean {
  const isContested = signed.signedHeaders.some((name) => {
    const raw = request.headers[name];
    if (raw === undefined) return false;
    return Array.isArray(raw) ? raw.some((v) => contested.test(v)) : contested.test(raw);
  });
  if (!isContested) return false;
  return (
    matches(foldLikeSmithy, true) ||
    matches(foldLikeSmithy, false) ||
    matches(foldLikeBotocore, false) ||
    matches(foldLikeBotocore, true) ||
    matches(foldLikeEcmaScript, true)
  );
}

function headerValue(headers: SigV4Request['headers'], name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

/** Derived signing keys kept (a key per secret, day, region and service); past this, all go. */
const maxSigningKeys = 1000;
const signingKeys = new Map<string, Buffer>();
/** HMAC under a kept signing key, its padded blocks made once; goes with the key. */
const signers = new WeakMap<Buffer, (message: string) => Buffer>();

function signerOf(key: Buffer): (message: string) => Buffer {
  let signer = signers.get(key);
  if (signer === undefined) {
    signer = hmacSha256Of(key);
    signers.set(key, signer);
  }
  return signer;
}

/**
 * The day's signing key of a secret: four HMACs, the same for every request of that day, so
 * derived once (AWS's own advice). Keyed by the secret itself, so a changed or deleted key never
 * reaches a stale entry: the secret is looked up per request before this.
 */
function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${secret}\0${date}\0${region}\0${service}`;
  const cached = signingKeys.get(id);
  if (cached !== undefined) return cached;
  let key = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  for (const part of [region, service, 'aws4_request']) {
    key = createHmac('sha256', key).update(part).digest();
  }
  if (signingKeys.size >= maxSigningKeys) signingKeys.clear();
  signingKeys.set(id, key);
  return key;
}

/** The last X-Amz-Date parsed: requests signed within the same second share it. */
let lastAmzDate: { text: string; ms: number | undefined } = { text: '', ms: undefined };

function parseAmzDate(text: string): number | undefined {
  if (text === lastAmzDate.text) return lastAmzDate.ms;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const parsed = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
  const ms = Number.isNaN(parsed) ? undefined : parsed;
  lastAmzDate = { text, ms };
  return ms;
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
  reason: SigV4FailReason = 'malformed',
): SigV4Failure {
  return { ok: false, type, message, reason };
}

function splitTarget(target: string): { path: string; rawQuery: string } {
  const q = target.indexOf('?');
  return q < 0
    ? { path: target, rawQuery: '' }
    : { path: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

/** The session token temporary credentials sign with: a header, or a presigned URL's query. */
function sessionTokenOf(request: SigV4Request): string | undefined {
  const header = headerValue(request.headers, 'x-amz-security-token');
  if (header !== undefined) return header;
  const rawQuery = splitTarget(request.target).rawQuery;
  if (!rawQuery.includes('X-Amz-Security-Token=')) return undefined;
  return new URLSearchParams(rawQuery).get('X-Amz-Security-Token') ?? undefined;
}

/** The signing fields of a browser form upload (S3 presigned POST). */
export interface PostPolicyFields {
  /** The base64 policy document, exactly as posted: it is the string to sign. */
  policy: string;
  algorithm: string;
  credential: string;
  amzDate: string;
  signature: string;
  sessionToken?: string;
}

/**
 * A POST policy's signature: HMAC-SHA256 of the base64 policy with the same signing key as any
 * SigV4 request. There is no canonical request: the policy names what may be uploaded, and its
 * own `expiration` bounds its life (checked with the policy's conditions by the caller), so no
 * skew check applies to X-Amz-Date.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html
 */
export async function verifyPostPolicySignature(
  fields: PostPolicyFields,
  opts: Pick<SigV4Options, 'service' | 'secretOf'>,
): Promise<{ ok: true; accessKeyId: string; region: string } | SigV4Failure> {
  if (fields.algorithm !== algorithm) {
    return fail('IncompleteSignatureException', `X-Amz-Algorithm must be ${algorithm}.`);
  }
  const parsed = parseCredential(fields.credential);
  if (!parsed.ok) return parsed;
  const { credential } = parsed;
  if (parseAmzDate(fields.amzDate) === undefined) {
    return fail('IncompleteSignatureException', `X-Amz-Date '${fields.amzDate}' is malformed.`);
  }
  const scopeFailure = checkScope(credential, fields.amzDate, opts.service);
  if (scopeFailure) return scopeFailure;
  const secret = await opts.secretOf(credential.accessKeyId, fields.sessionToken);
  if (secret === undefined) {
    return fail(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      'unknown-key',
    );
  }
  const key = signingKey(secret, credential.date, credential.region, credential.service);
  const expected = createHmac('sha256', key).update(fields.policy).digest();
  const given = /^[0-9a-f]{64}$/i.test(fields.signature)
    ? Buffer.from(fields.signature, 'hex')
    : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return fail('InvalidSignatureException', mismatch, 'mismatch');
  }
  return { ok: true, accessKeyId: credential.accessKeyId, region: credential.region };
}
