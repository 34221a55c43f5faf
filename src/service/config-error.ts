import { NimbusError } from '../errors/nimbus-error.js';

/** Stable codes for everything that can be wrong with a service's configuration. */
export type ConfigErrorCode =
  | 'NIMBUS_CONFIG_NOT_FOUND'
  | 'NIMBUS_CONFIG_READ'
  | 'NIMBUS_CONFIG_YAML'
  | 'NIMBUS_CONFIG_DUPLICATE'
  | 'NIMBUS_CONFIG_INVALID'
  | 'NIMBUS_CONFIG_VARIABLE'
  | 'NIMBUS_CONFIG_RUNTIME'
  | 'NIMBUS_CONFIG_HANDLER';

export interface ConfigErrorInit {
  code: ConfigErrorCode;
  /** Config file name relative to the cwd (or the directory, for NOT_FOUND). */
  file: string;
  line?: number;
  column?: number;
  /** Dotted property path, e.g. `functions.hello.timeout`. */
  path?: string;
  /** The problem alone; the full message is built from position, path and detail. */
  detail: string;
}

/**
 * A configuration problem the user must fix. `message` is the complete line the CLI prints:
 * `serverless.yml:14:16 functions.hello.timeout: must be an integer from 1 to 900`.
 */
export class ConfigError extends NimbusError {
  declare readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;

  constructor(init: ConfigErrorInit) {
    super(init.code, formatConfigMessage(init));
    this.file = init.file;
    if (init.line !== undefined) this.line = init.line;
    if (init.column !== undefined) this.column = init.column;
    if (init.path) this.path = init.path;
  }
}

/** `file:line:col path: detail`, dropping the parts that are unknown. */
export function formatConfigMessage(init: Omit<ConfigErrorInit, 'code'>): string {
  let where = init.file;
  if (init.line !== undefined) where += `:${init.line}:${init.column ?? 1}`;
  return init.path ? `${where} ${init.path}: ${init.detail}` : `${where} ${init.detail}`;
}
