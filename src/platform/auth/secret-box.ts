import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { NimbusError } from '../../errors/nimbus-error.js';

/** AES-256-GCM: a 12-byte nonce per seal, a 16-byte tag. */
const algorithm = 'aes-256-gcm';
const nonceBytes = 12;
const tagBytes = 16;
/** Format marker, so a later scheme (key rotation, another cipher) can live beside this one. */
const prefix = 'v1.';

export class SealedSecretError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_AUTH_SECRET_UNREADABLE', message, options);
  }
}

/**
 * Seals `secret` under `key`. `context` (the access key id) is bound as associated data, so a
 * sealed secret copied onto another row does not open there.
 */
export function sealSecret(key: Buffer, secret: string, context: string): string {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv(algorithm, key, nonce, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${prefix}${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** Throws SealedSecretError when the text was sealed under another key or has been altered. */
export function openSecret(key: Buffer, sealed: string, context: string): string {
  if (!sealed.startsWith(prefix)) throw new SealedSecretError('unknown sealed-secret format');
  const raw = Buffer.from(sealed.slice(prefix.length), 'base64url');
  if (raw.length < nonceBytes + tagBytes) throw new SealedSecretError('sealed secret is truncated');
  const nonce = raw.subarray(0, nonceBytes);
  const tag = raw.subarray(raw.length - tagBytes);
  const body = raw.subarray(nonceBytes, raw.length - tagBytes);
  const decipher = createDecipheriv(algorithm, key, nonce, { authTagLength: tagBytes });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new SealedSecretError(
      'an access key secret does not open with this master key: the master key changed ' +
        '(NIMBUS_MASTER_KEY or <dataDir>/master-key) since the key was created',
      { cause: error },
    );
  }
}
