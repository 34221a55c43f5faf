/**
 * SHA-256 as lowercase hex, as SigV4 hashes every request body and canonical request. Node's
 * one-shot `crypto.hash` (20.12 and later) skips the Hash object that createHash builds, and is
 * several times cheaper for the small inputs of an API call: two of them on every signed
 * request. Older Node 20 releases, which Nimbus still supports, take the streaming form.
 */
import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: string | Buffer, encoding: 'hex') => string;

const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

export const sha256Hex: (data: string | Buffer) => string =
  typeof oneShot === 'function'
    ? (data) => oneShot('sha256', data, 'hex')
    : (data) => crypto.createHash('sha256').update(data).digest('hex');
