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
  | 'NIMBUS_CONFIG_HANDLER'
  | 'NIMBUS_CONFIG_UNSUPPORTED';

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
  /**
   * Every problem line when one load found several (all the refused keys at once); the
   * position fields describe the first. `message` is these lines joined by newlines.
   */
  readonly problems: readonly string[];

  readonly detail: string;

  /** `also`: further errors found in the same load, reported after this one. */
  constructor(init: ConfigErrorInit, also: readonly ConfigError[] = []) {
    const problems = [formatConfigMessage(init), ...also.flatMap((e) => e.problems)];
    super(init.code, problems.join('\n'));
    this.problems = problems;
    this.detail = init.detail;
    this.file = init.file;
    if (init.line !== undefined) this.line = init.line;
    if (init.column !== undefined) this.column = init.column;
    if (init.path) this.path = init.path;
  }
}

/** One error for all of `errors` (at least one), so the user can fix them in one go. */
export function combineConfigErrors(errors: readonly ConfigError[]): ConfigError {
  const [first, ...rest] = errors;
  if (!first) throw new Error('combineConfigErrors needs at least one error');
  if (rest.length === 0) return first;
  const init: ConfigErrorInit = { code: first.code, file: first.file, detail: first.detail };
  if (first.line !== undefined) init.line = first.line;
  if (first.column !== undefined) init.column = first.column;
  if (first.path !== undefined) init.path = first.path;
  return new ConfigError(init, rest);
}

/** `file:line:col path: detail`, dropping the parts that are unknown. */
export function formatConfigMessage(init: Omit<ConfigErrorInit, 'code'>): string {
  let where = init.file;
  if (init.line !== undefined) where += `:${init.line}:${init.column ?? 1}`;
  return init.path ? `${where} ${init.path}: ${init.detail}` : `${where} ${init.detail}`;
}
