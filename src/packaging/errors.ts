/**
 * Errors raised while building artifacts. Each carries a stable NIMBUS_PACKAGING_* code so the CLI
 * can print it and tests can assert on it without matching message text.
 * (Zip refusals have their own class, ZipRejectedError in zip-safety.ts, because the server
 * raises those too.)
 */
import { NimbusError } from '../errors/nimbus-error.js';

export type PackagingErrorCode =
  /** `package.artifact` names a file that does not exist. */
  | 'NIMBUS_PACKAGING_ARTIFACT_MISSING'
  /** Two different sources would be written under the same file name in outDir. */
  | 'NIMBUS_PACKAGING_ARTIFACT_CONFLICT'
  /** esbuild could not bundle a TypeScript handler (syntax error, missing import...). */
  | 'NIMBUS_PACKAGING_BUNDLE_FAILED'
  /** `tsc --noEmit` found type errors in a service with a tsconfig.json. */
  | 'NIMBUS_PACKAGING_TYPE_ERRORS';

export class PackagingError extends NimbusError {
  declare readonly code: PackagingErrorCode;

  constructor(code: PackagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
