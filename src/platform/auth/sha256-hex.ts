/**
 * SHA-256 as lowercase hex, as SigV4 hashes every request body and canonical request. Node's
 * one-shot `crypto.hash` (20.12 and later) skips the Hash object that createHash builds, and is
 * several times cheaper for the small inputs of an API call: two of them on every signed
 * request. Older Node 20 releases, which Nimbus still supports, take the streaming form.
 */
import * as crypto from 'node:crypto';

type OneShotHash = {
  (algorithm: string, data: string | Buffer, encoding: 'hex' | 'latin1'): string;
  (algorithm: string, data: string | Buffer, encoding: 'buffer'): Buffer;
};

const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

export const sha256Hex: (data: string | Buffer) => string =
  typeof oneShot === 'function'
    ? (data) => oneShot('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');

/** SHA-256's block: a key up to this long is padded, not hashed, by HMAC. */
const blockBytes = 64;
const beyondAscii = /[\u0080-\uffff]/;

/**
 * HMAC-SHA256 under one key, for the HMAC of every signed request (the day's signing key is
 * derived once and kept): the key's two padded blocks are made once, and HMAC's two SHA-256
 * passes (RFC 2104) run as one-shot hashes, about a third cheaper than a Hmac object per call.
 * A message beyond ASCII (which createHmac takes as UTF-8), a long key or an older Node 20
 * goes through createHmac.
 */
export function hmacSha256Of(key: Buffer): (message: string) => Buffer {
  const hash = oneShot;
  const slow = (message: string) => crypto.createHmac('sha256', key).update(message).digest();
  if (typeof hash !== 'function' || key.length > blockBytes) return slow;
  const inner = Buffer.alloc(blockBytes, 0x36);
  const outer = Buffer.alloc(blockBytes, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  // As latin1 text, each byte one character: a pad and an ASCII message concatenate as bytes.
  const innerPad = inner.toString('latin1');
  const outerPad = outer.toString('latin1');
  return (message) => {
    if (beyondAscii.test(message)) return slow(message);
    const innerHash = hash('sha256', Buffer.from(innerPad + message, 'latin1'), 'latin1');
    return hash('sha256', Buffer.from(outerPad + innerHash, 'latin1'), 'buffer');
  };
}
