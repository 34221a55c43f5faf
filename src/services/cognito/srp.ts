/**
 * The server half of Cognito's SRP-6a (USER_SRP_AUTH / PASSWORD_VERIFIER), with the same
 * encodings the Cognito clients use (amazon-cognito-identity-js, Amplify, boto3 helpers), so
 * their default sign-in works unchanged:
 * - N: the 3072-bit group of RFC 5054 (RFC 3526 group 15), g = 2, H = SHA-256;
 * - numbers are hashed as "signed" hex: even length, with a 00 byte in front when the top bit
 *   is set (the clients' padHex);
 * - k = H(N | g), u = H(A | B), x = H(salt | H(poolName | userIdForSRP | ":" | password)),
 *   poolName being the pool id after `_`;
 * - the key is HKDF-SHA256(ikm = S, salt = u, info = "Caldera Derived Key") cut to 16 bytes;
 * - the claim is Base64(HMAC-SHA256(key, poolName | userIdForSRP | secretBlock | timestamp)).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const nHex =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
  'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
  'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
  '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
  'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
  '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
  'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
  'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF';

export const N = BigInt(`0x${nHex}`);
export const g = 2n;

/** The clients' padHex: even-length hex, with 00 in front when the top bit is set. */
export function padHex(value: bigint): string {
  let hex = value.toString(16);
  if (hex.length % 2 !== 0) hex = `0${hex}`;
  return /^[89a-f]/i.test(hex) ? `00${hex}` : hex;
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hashHex(hex: string): bigint {
  return BigInt(`0x${sha256Hex(Buffer.from(hex, 'hex'))}`);
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

export const k = hashHex(padHex(N) + padHex(g));

function randomBig(bytes: number): bigint {
  return BigInt(`0x${randomBytes(bytes).toString('hex')}`);
}

/** The pool id's part after `_`, which Cognito mixes into x and the claim. */
export function poolNameOf(poolId: string): string {
  return poolId.slice(poolId.indexOf('_') + 1);
}

/** x = H(salt | H(poolName | userIdForSRP | ":" | password)). */
function privateKey(saltHex: string, poolName: string, userId: string, password: string): bigint {
  const inner = sha256Hex(`${poolName}${userId}:${password}`);
  return hashHex(padHex(BigInt(`0x${saltHex}`)) + inner);
}

export interface SrpVerifier {
  /** Hex, as SALT is sent. */
  salt: string;
  /** v = g^x mod N, hex. */
  verifier: string;
}

/** A fresh per-user salt and the verifier of `password` for this user of this pool. */
export function makeVerifier(poolId: string, userId: string, password: string): SrpVerifier {
  const salt = randomBytes(16).toString('hex');
  const x = privateKey(salt, poolNameOf(poolId), userId, password);
  return { salt, verifier: modPow(g, x, N).toString(16) };
}

export interface ServerEphemeral {
  /** b, hex (secret, kept until the answer). */
  secret: string;
  /** B = k·v + g^b mod N, hex (SRP_B). */
  public: string;
}

export function serverEphemeral(verifierHex: string): ServerEphemeral {
  const v = BigInt(`0x${verifierHex}`);
  for (;;) {
    // 256 random bits: the exponent size that gives the group's ~128-bit strength, at a
    // quarter of the modular-power cost of a 1024-bit one (BigInt arithmetic is not fast).
    const b = randomBig(32);
    const B = (k * v + modPow(g, b, N)) % N;
    if (b !== 0n && B !== 0n) return { secret: b.toString(16), public: B.toString(16) };
  }
}

/** A valid client public value: hex, not 0 mod N. */
export function clientPublicOk(aHex: string): boolean {
  if (!/^[0-9a-fA-F]{1,1600}$/.test(aHex)) return false;
  return BigInt(`0x${aHex}`) % N !== 0n;
}

/** The 16-byte key both sides derive: HKDF(S, u, "Caldera Derived Key"). */
export function sessionKey(aHex: string, ephemeral: ServerEphemeral, verifierHex: string): Buffer {
  const A = BigInt(`0x${aHex}`);
  const B = BigInt(`0x${ephemeral.public}`);
  const b = BigInt(`0x${ephemeral.secret}`);
  const v = BigInt(`0x${verifierHex}`);
  const u = hashHex(padHex(A) + padHex(B));
  // S = (A · v^u)^b mod N
  const S = modPow((A * modPow(v, u, N)) % N, b, N);
  const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex'))
    .update(Buffer.from(padHex(S), 'hex'))
    .digest();
  return createHmac('sha256', prk)
    .update(Buffer.concat([Buffer.from('Caldera Derived Key', 'utf8'), Buffer.from([1])]))
    .digest()
    .subarray(0, 16);
}

/** PASSWORD_CLAIM_SIGNATURE as the client must have computed it, compared in constant time. */
export function claimMatches(
  key: Buffer,
  poolId: string,
  userId: string,
  secretBlock: string,
  timestamp: string,
  signature: string,
): boolean {
  const expected = createHmac('sha256', key)
    .update(
      Buffer.concat([
        Buffer.from(poolNameOf(poolId), 'utf8'),
        Buffer.from(userId, 'utf8'),
        Buffer.from(secretBlock, 'base64'),
        Buffer.from(timestamp, 'utf8'),
      ]),
    )
    .digest();
  const given = Buffer.from(signature, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** TIMESTAMP as Cognito wants it: "ddd MMM d HH:mm:ss UTC yyyy", the day without a leading zero. */
export const timestampPattern =
  /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d UTC \d{4}$/;
