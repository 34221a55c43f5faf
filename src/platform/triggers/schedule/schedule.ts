/**
 * One schedule = one expression of one function's `schedule` event, as Serverless turns each
 * expression of `rate: [...]` into its own EventBridge rule. Compiled once when a deployment
 * lands, never per tick.
 */
import type { FunctionDefinition, ScheduleEvent } from '../../../model/service-definition.js';
import { parseScheduleExpression, type ScheduleExpression } from './expression.js';
import { ScheduleConfigError } from './schedule-errors.js';
import { assertTimeZone } from './zone-time.js';

export interface Schedule {
  /**
   * Stable across deployments and restarts: the event's `name`, else
   * `<functionName>-schedule-<n>` with n counting the function's expressions from 1 (the
   * numbering of Serverless's `<Function>EventsRuleSchedule<n>`). Also the rule name in the
   * event's `resources` ARN, and the key of the fire ledger.
   */
  id: string;
  /** Deployed function name. */
  functionName: string;
  /** Alias or version to invoke; none means $LATEST. */
  qualifier?: string;
  /** The one rate(...)/cron(...) of `event.rate` this schedule runs. */
  expression: string;
  event: ScheduleEvent;
}

export interface CompiledSchedule {
  schedule: Schedule;
  expression: ScheduleExpression;
  /** Only for cron; rates ignore it. */
  timezone: string | undefined;
  /**
   * What decides when the schedule fires. A change resets the ledger's baseline, so a schedule
   * that was edited (or re-enabled) does not catch up slots of its previous form.
   */
  spec: string;
}

/** Parses and checks everything that could fail at fire time: expression, timezone, input. */
export function compileSchedule(schedule: Schedule): CompiledSchedule {
  const expression = parseScheduleExpression(schedule.expression);
  const timezone = schedule.event.timezone;
  if (timezone !== undefined) assertTimeZone(timezone);
  if (schedule.event.input !== undefined) scheduleInput(schedule.event.input, schedule.id);
  return {
    schedule,
    expression,
    timezone,
    spec: JSON.stringify([expression.source, timezone ?? null, schedule.event.enabled]),
  };
}

/** Deploy-time check of one `schedule` event: throws what compileSchedule would. */
export function validateScheduleEvent(event: ScheduleEvent): void {
  if (event.name !== undefined && event.rate.length > 1) {
    throw new ScheduleConfigError(
      `schedule ${event.name}: a name cannot be given to more than one rate expression`,
    );
  }
  for (const expression of event.rate) {
    compileSchedule({ id: event.name ?? 'schedule', functionName: '', expression, event });
  }
}

/** Every schedule of the given functions, in definition order. */
export function schedulesOf(
  functions: Iterable<FunctionDefinition>,
  opts: { qualifier?: string } = {},
): Schedule[] {
  const out: Schedule[] = [];
  for (const fn of functions) {
    let n = 0;
    for (const event of fn.events) {
      if (event.kind !== 'schedule') continue;
      if (event.name !== undefined && event.rate.length > 1) {
        throw new ScheduleConfigError(
          `function ${fn.key}: schedule ${event.name} names more than one rate expression; ` +
            'a name can only be given to one',
        );
      }
      for (const expression of event.rate) {
        n++;
        out.push({
          id: event.name ?? `${fn.name}-schedule-${n}`,
          functionName: fn.name,
          ...(opts.qualifier === undefined ? {} : { qualifier: opts.qualifier }),
          expression,
          event,
        });
      }
    }
  }
  return out;
}

/**
 * The payload `input` stands for. EventBridge takes a target's Input as JSON text: Serverless
 * stringifies an object (after parsing a string `body` as JSON) and passes a string through, so
 * a string must itself be JSON text.
 */
export function scheduleInput(input: unknown, scheduleId: string): unknown {
  try {
    if (typeof input === 'string') return JSON.parse(input);
    const copy: unknown = JSON.parse(JSON.stringify(input));
    if (copy !== null && typeof copy === 'object' && !Array.isArray(copy)) {
      const body = (copy as Record<string, unknown>).body;
      if (typeof body === 'string') (copy as Record<string, unknown>).body = JSON.parse(body);
    }
    return copy;
  } catch (err) {
    throw new ScheduleConfigError(
      `schedule ${scheduleId}: input must be JSON (a string input, or input.body, is parsed as ` +
        `JSON text): ${(err as Error).message}`,
    );
  }
}
