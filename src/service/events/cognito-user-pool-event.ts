/**
 * `cognitoUserPool` events (Serverless Framework v3): `pool` names the user pool, `trigger` the
 * step, `existing: true` attaches to a pool made elsewhere. Without `existing` the Framework
 * makes the pool (logical id `CognitoUserPool<Pool>`) or, when `resources` declare that logical
 * id, adds the trigger to the declared one.
 */
import {
  isSupportedTrigger,
  supportedTriggers,
  unsupportedTriggers,
} from '../../services/cognito/triggers.js';

export function cognitoUserPoolEventProblem(
  config: Record<string, unknown>,
): { field: string; message: string } | undefined {
  const { pool, trigger, existing } = config;
  if (typeof pool !== 'string' || !/^[\w\s+=,.@-]{1,128}$/.test(pool)) {
    return {
      field: 'pool',
      message: 'must be a user pool name (1 to 128 letters, digits, spaces and + = , . @ - _)',
    };
  }
  if (typeof trigger !== 'string') {
    return { field: 'trigger', message: `is required: one of ${supportedTriggers.join(', ')}` };
  }
  if (!isSupportedTrigger(trigger)) {
    return {
      field: 'trigger',
      message: unsupportedTriggers.includes(trigger)
        ? `the ${trigger} trigger is not supported by Nimbus yet (supported: ${supportedTriggers.join(', ')})`
        : `must be one of ${supportedTriggers.join(', ')}`,
    };
  }
  if (existing !== undefined && typeof existing !== 'boolean') {
    return { field: 'existing', message: 'must be true or false' };
  }
  return undefined;
}

/** The Framework's logical id of the pool an event makes: `CognitoUserPool` + the name in letters and digits, first one upper-case. */
export function cognitoUserPoolLogicalId(pool: string): string {
  const alnum = pool.replace(/[^0-9A-Za-z]/g, '');
  return `CognitoUserPool${alnum.charAt(0).toUpperCase()}${alnum.slice(1)}`;
}
