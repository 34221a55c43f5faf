import { z } from 'zod';
import type { ScheduleEvent } from '../../model/service-definition.js';
import type { NormalizeContext } from '../context.js';
import type { PropertyPath } from '../property-path.js';
import { bool, text } from '../schema/fields.js';
import { validate } from '../validate.js';

const expression = z
  .string({ error: 'must be a rate(...) or cron(...) expression' })
  .refine((s) => /^(rate|cron)\(.*\)$/.test(s.trim()), {
    error: 'must be a rate(...) or cron(...) expression, e.g. rate(5 minutes)',
  });

export const scheduleObject = z.looseObject({
  rate: z.preprocess(
    (v) => (typeof v === 'string' ? [v] : v),
    z
      .array(expression, { error: 'is required (a rate(...)/cron(...) expression or a list)' })
      .min(1, {
        error: 'needs at least one expression',
      }),
  ),
  enabled: bool.default(true),
  name: text.optional(),
  description: text.optional(),
  input: z.unknown().optional(),
  timezone: text.optional(),
});

/** `'rate(10 minutes)'` or `{rate, enabled, ...}` → ScheduleEvent. */
export function normalizeSchedule(
  value: unknown,
  path: PropertyPath,
  ctx: NormalizeContext,
): ScheduleEvent {
  const input = typeof value === 'string' ? { rate: value } : value;
  const parsed = validate(scheduleObject, input, path, ctx.locator);
  const event: ScheduleEvent = {
    kind: 'schedule',
    rate: parsed.rate.map((r) => r.trim()),
    enabled: parsed.enabled,
  };
  if (parsed.name !== undefined) event.name = parsed.name;
  if (parsed.description !== undefined) event.description = parsed.description;
  if (parsed.input !== undefined) event.input = parsed.input;
  if (parsed.timezone !== undefined) event.timezone = parsed.timezone;
  return event;
}
