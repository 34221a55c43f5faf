/**
 * Content-addressed storage for artifacts: a blob's key is the hex sha256 of its bytes.
 * The filesystem adapter is the embedded default; S3 or PostgreSQL adapters come with cluster mode.
 */
import type { Readable } from 'node:stream';
import { NimbusError } from '../errors/nimbus-error.js';

export interface BlobStore {
  has(sha256: string): Promise<boolean>;
  /** Size in bytes, or undefined when absent. */
  size(sha256: string): Promise<number | undefined>;
  /**
   * Stores bytes whose sha256 the caller claims; the adapter verifies it and refuses a mismatch
   * (BlobHashMismatchError), leaving nothing behind.
   */
  put(sha256: string, data: Buffer): Promise<void>;
  get(sha256: string): Promise<Buffer>;
  stream(sha256: string): Readable;
  delete(sha256: string): Promise<void>;
}

export class BlobHashMismatchError extends NimbusError {
  constructor(expected: string, actual: string) {
    super('NIMBUS_BLOB_HASH_MISMATCH', `blob hash mismatch: expected ${expected}, got ${actual}`);
  }
}

export class BlobNotFoundError extends NimbusError {
  constructor(sha256: string) {
    super('NIMBUS_BLOB_NOT_FOUND', `blob ${sha256} not found`);
  }
}
