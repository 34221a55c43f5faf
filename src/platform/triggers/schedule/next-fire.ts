/**
 * When an expression fires. Slots are whole minutes (cron) or whole multiples of the period since
 * the Unix epoch (rate): both are pure functions of the expression, so every node of a cluster and
 * every restart agrees on them without storing an anchor.
 */
import {
  type CronExpression,
  type DayOfMonthRule,
  type DayOfWeekRule,
  lastYear,
  parseScheduleExpression,
  type ScheduleExpression,
} from './expression.js';
import { instantOf, wallTime } from './zone-time.js';

const minuteMs = 60_000;
const hourMs = 3_600_000;
const dayMs = 86_400_000;

/**
 * The first slot strictly after `after`, or undefined when there is none up to the end of 2199
 * (an expired year list, or a day that never comes such as 30 February). `timezone` applies to
 * cron only; a rate is a fixed duration whatever the zone, as in EventBridge Scheduler.
 */
export function nextFire(
  expression: ScheduleExpression | string,
  after: Date,
  timezone?: string,
): Date | undefined {
  const next = nextFireMs(compile(expression), after.getTime(), timezone);
  return next === undefined ? undefined : new Date(next);
}

/** The most recent slot in (after, atOrBefore], or undefined: the one catch-up fire. */
export function latestFire(
  expression: ScheduleExpression | string,
  after: Date,
  atOrBefore: Date,
  timezone?: string,
): Date | undefined {
  const latest = latestFireMs(compile(expression), after.getTime(), atOrBefore.getTime(), timezone);
  return latest === undefined ? undefined : new Date(latest);
}

export function nextFireMs(
  expr: ScheduleExpression,
  afterMs: number,
  timezone: string | undefined,
): number | undefined {
  if (expr.kind === 'rate') return (Math.floor(afterMs / expr.periodMs) + 1) * expr.periodMs;
  return nextCronMs(expr, afterMs, timezone);
}

export function latestFireMs(
  expr: ScheduleExpression,
  afterMs: number,
  atOrBeforeMs: number,
  timezone: string | undefined,
): number | undefined {
  if (atOrBeforeMs <= afterMs) return undefined;
  if (expr.kind === 'rate') {
    const slot = Math.floor(atOrBeforeMs / expr.periodMs) * expr.periodMs;
    return slot > afterMs ? slot : undefined;
  }
  // Cron has no closed form backwards. Look back through widening windows so a dense schedule
  // after a long outage walks a few dozen slots, not every minute since the last fire.
  for (const back of [hourMs, dayMs, 32 * dayMs, 367 * dayMs, 3670 * dayMs, Infinity]) {
    const from = Math.max(afterMs, atOrBeforeMs - back);
    let slot = nextCronMs(expr, from, timezone);
    if (slot === undefined || slot > atOrBeforeMs) {
      if (from === afterMs) return undefined;
      continue;
    }
    for (;;) {
      const next = nextCronMs(expr, slot, timezone);
      if (next === undefined || next > atOrBeforeMs) return slot;
      slot = next;
    }
  }
  return undefined;
}

function nextCronMs(
  expr: CronExpression,
  afterMs: number,
  timezone: string | undefined,
): number | undefined {
  const startMs = (Math.floor(afterMs / minuteMs) + 1) * minuteMs;
  // Candidates earlier in wall time than `start` map to earlier instants (instantOf rises with
  // wall time), so the walk may begin at start's own wall-clock minute.
  const from = wallTime(startMs, timezone);
  const lastAllowed = expr.years === undefined ? lastYear : Math.max(...expr.years);
  for (let year = from.year; year <= lastAllowed; year++) {
    if (expr.years !== undefined && !expr.years.has(year)) continue;
    const firstYear = year === from.year;
    for (let month = firstYear ? from.month : 1; month <= 12; month++) {
      if (!expr.months.has(month)) continue;
      const firstMonth = firstYear && month === from.month;
      const days = daysInMonth(year, month);
      for (let day = firstMonth ? from.day : 1; day <= days; day++) {
        if (!dayMatches(expr, year, month, day)) continue;
        const firstDay = firstMonth && day === from.day;
        for (const hour of expr.hours) {
          if (firstDay && hour < from.hour) continue;
          const firstHour = firstDay && hour === from.hour;
          for (const minute of expr.minutes) {
            if (firstHour && minute < from.minute) continue;
            const instant = instantOf({ year, month, day, hour, minute }, timezone);
            if (instant !== undefined && instant >= startMs) return instant;
          }
        }
      }
    }
  }
  return undefined;
}

function dayMatches(expr: CronExpression, year: number, month: number, day: number): boolean {
  return (
    domMatches(expr.dayOfMonth, year, month, day) && dowMatches(expr.dayOfWeek, year, month, day)
  );
}

function domMatches(rule: DayOfMonthRule, year: number, month: number, day: number): boolean {
  switch (rule.kind) {
    case 'any':
      return true;
    case 'days':
      return rule.days.has(day);
    case 'last':
      return day === daysInMonth(year, month);
    case 'lastWeekday':
      return day === nearestWeekday(year, month, daysInMonth(year, month));
    case 'nearestWeekday':
      return day === nearestWeekday(year, month, rule.day);
  }
}

function dowMatches(rule: DayOfWeekRule, year: number, month: number, day: number): boolean {
  if (rule.kind === 'any') return true;
  const weekday = weekdayOf(year, month, day);
  switch (rule.kind) {
    case 'days':
      return rule.weekdays.has(weekday);
    case 'last':
      return weekday === rule.weekday && day + 7 > daysInMonth(year, month);
    case 'nth':
      return weekday === rule.weekday && Math.ceil(day / 7) === rule.nth;
  }
}

/**
 * `15W`: the weekday nearest the 15th without leaving the month (Quartz semantics, which AWS
 * follows): Saturday moves to Friday, Sunday to Monday, except that `1W` on a Saturday moves on
 * to Monday the 3rd and a Sunday last day moves back to Friday. A day past the month's end (31W in
 * April) never fires.
 */
function nearestWeekday(year: number, month: number, target: number): number | undefined {
  const days = daysInMonth(year, month);
  if (target > days) return undefined;
  const weekday = weekdayOf(year, month, target);
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === days ? target - 2 : target + 1;
  return target;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 0 = Sunday. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

function compile(expression: ScheduleExpression | string): ScheduleExpression {
  return typeof expression === 'string' ? parseScheduleExpression(expression) : expression;
}
