import { NimbusError } from '../../errors/nimbus-error.js';

/**
 * The platform will not start (or run a function) without the isolation docs/security.md
 * promises: a data dir functions cannot read, a real admin token, a uid per service stage.
 */
export class IsolationError extends NimbusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NIMBUS_ISOLATION_UNSAFE', message, options);
  }
}
