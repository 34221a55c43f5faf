/**
 * Blob keys are hex sha256 digests, and adapters turn them into paths or object keys; anything
 * else is refused before it can name a location (`../../etc/passwd`, upper-case twins of a key).
 */
import { NimbusError } from '../errors/nimbus-error.js';

export class BlobKeyError extends NimbusError {
  constructor(key: string) {
    // The key may be hostile or huge: show a bounded, quoted prefix.
    super(
      'NIMBUS_BLOB_BAD_KEY',
      `invalid blob key ${JSON.stringify(key.slice(0, 80))}: expected 64 lower-case hex digits`,
    );
  }
}

const sha256Hex = /^[0-9a-f]{64}$/;

export function assertBlobKey(key: string): void {
  if (typeof key !== 'string' || !sha256Hex.test(key)) throw new BlobKeyError(String(key));
}
