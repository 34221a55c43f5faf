/**
 * `eventBridge` events (and `cloudwatchEvent`, their older spelling on the default bus): a
 * `pattern` rule is kept as `{kind: 'eventBridge', config}` for the platform's rules reaction,
 * its pattern checked here with the shared matcher so a bad one is refused at load with its
 * line; the `schedule` form is a schedule like any `schedule` event (the default bus only).
 */
import { isIntrinsic } from '../../model/intrinsic.js';
import type { EventDefinition } from '../../model/service-definition.js';
import { InvalidPatternError, validatePattern } from '../../platform/aws/patterns/event-pattern.js';
import type { NormalizeContext } from '../context.js';
import { isPlainObject, type PropertyPath } from '../property-path.js';
import { normalizeOther } from './other.js';
import { normalizeSchedule } from './schedule.js';

export function normalizeEventBridge(
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): EventDefinition {
  const event = normalizeOther('eventBridge', value, path, ctx);
  const config = (event as { config: Record<string, unknown> }).config;
  if (config.schedule !== undefined) {
    for (const key of ['pattern', 'inputPath', 'inputTransformer', 'eventBus']) {
      if (config[key] !== undefined) {
        throw ctx.locator.error(
          'NIMBUS_CONFIG_INVALID',
          [...path, key],
          `${key} cannot be used with schedule (a schedule rule fires on the default bus with its input)`,
        );
      }
    }
    const { schedule, input, enabled, name, description } = config;
    return normalizeSchedule(
      {
        rate: schedule,
        ...(input !== undefined ? { input } : {}),
        ...(enabled !== undefined ? { enabled } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
      },
      path,
      ctx,
    );
  }
  checkPattern(config.pattern, [...path, 'pattern'], ctx);
  if (config.inputTransformer !== undefined) {
    const t = config.inputTransformer;
    if (!isPlainObject(t) || typeof t.inputTemplate !== 'string') {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        [...path, 'inputTransformer'],
        'needs inputTemplate (a string) and may have inputPathsMap',
      );
    }
  }
  return event;
}

/** `cloudwatchEvent: {event, input, inputPath, name, description, enabled}` on the default bus. */
export function normalizeCloudwatchEvent(
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): EventDefinition {
  if (!isPlainObject(value) || value.event === undefined) {
    throw ctx.locator.error('NIMBUS_CONFIG_INVALID', path, 'cloudwatchEvent event needs "event"');
  }
  checkPattern(value.event, [...path, 'event'], ctx);
  const { event, ...rest } = value;
  return { kind: 'eventBridge', config: { ...rest, pattern: event } };
}

function checkPattern(pattern: unknown, path: PropertyPath, ctx: NormalizeContext): void {
  try {
    validatePattern(intrinsicsAsValues(pattern));
  } catch (error) {
    if (error instanceof InvalidPatternError) {
      throw ctx.locator.error(
        'NIMBUS_CONFIG_INVALID',
        path,
        `invalid event pattern: ${error.message}`,
      );
    }
    throw error;
  }
}

/**
 * The pattern with each intrinsic (`name: [!Ref PhotoBucket]`) standing in as a plain value:
 * they are resolved at deploy, so at load only the shape around them can be checked.
 */
function intrinsicsAsValues(value: unknown): unknown {
  if (isIntrinsic(value)) return 'resolved-at-deploy';
  if (Array.isArray(value)) return value.map(intrinsicsAsValues);
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, intrinsicsAsValues(v)]));
  }
  return value;
}
