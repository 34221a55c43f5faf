/**
 * Why a zip was refused. Lives apart from zip-safety.ts so the small rule helpers can raise it
 * without importing the reader; zip-safety.ts re-exports it as part of its public API.
 */
import { NimbusError } from '../errors/nimbus-error.js';

export type ZipRejectedCode =
  /** An entry name or symlink target would land outside the destination. */
  | 'NIMBUS_ARTIFACT_UNSAFE_PATH'
  /** Zipped size, declared or real unzipped size, or entry count is over the limit. */
  | 'NIMBUS_ARTIFACT_TOO_LARGE'
  /** Not a zip we can read: corrupt, truncated, encrypted, unknown compression, lying sizes. */
  | 'NIMBUS_ARTIFACT_INVALID';

export class ZipRejectedError extends NimbusError {
  declare readonly code: ZipRejectedCode;
  /** The offending entry name, when the refusal is about one entry. */
  readonly entry?: string;

  constructor(
    code: ZipRejectedCode,
    message: string,
    entry?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    if (entry !== undefined) this.entry = entry;
  }
}
