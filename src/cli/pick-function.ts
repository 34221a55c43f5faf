import type { FunctionDefinition, ServiceDefinition } from '../model/service-definition.js';
import { nearestName } from '../service/nearest-name.js';
import { CliError } from './cli-error.js';

/**
 * The function named by `-f`, for every command that takes one: a missing or unknown key gets
 * the same message everywhere, listing the service's functions (and the nearest for a typo).
 */
export function pickFunction(
  definition: ServiceDefinition,
  key: string | undefined,
): { key: string; fn: FunctionDefinition } {
  const keys = Object.keys(definition.functions);
  const list = `the functions of service "${definition.service}" are: ${keys.join(', ') || '(none)'}`;
  if (!key) throw new CliError(`Missing -f <function>; ${list}`);
  const fn = definition.functions[key];
  if (fn) return { key, fn };
  const nearest = nearestName(key, keys);
  const hint = nearest ? ` (did you mean "${nearest}"?)` : '';
  throw new CliError(`Function "${key}" is not defined in this service${hint}; ${list}`);
}

/** What `invoke`, `logs` and `invocations` say when the stage has no such function deployed. */
export function notDeployedError(definition: ServiceDefinition, key: string): CliError {
  const fn = definition.functions[key];
  return new CliError(
    `Function "${key}"${fn ? ` (${fn.name})` : ''} of service "${definition.service}" is not ` +
      `deployed to stage "${definition.stage}": deploy it first with 'nimbus deploy` +
      `${definition.stage === 'dev' ? '' : ` --stage ${definition.stage}`}'`,
  );
}
