/**
 * rate(...) and AWS six-field cron(...) expressions, parsed once into a form next-fire.ts can
 * walk. Own code rather than croner/cron-parser (neither is installed, and both speak Unix cron):
 * AWS cron differs in the places that matter — day-of-week 1 = SUN, a year field, `?` required in
 * one of the day fields, `L`/`W`/`#` — and a translation layer would be as long as this parser.
 */
import { ScheduleExpressionError } from './schedule-errors.js';

export type RateUnit = 'minute' | 'hour' | 'day';

export interface RateExpression {
  kind: 'rate';
  source: string;
  value: number;
  unit: RateUnit;
  periodMs: number;
}

export type DayOfMonthRule =
  | { kind: 'any' }
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

/** Weekdays are JavaScript's (0 = Sunday), already translated from AWS's 1 = Sunday. */
export type DayOfWeekRule =
  | { kind: 'any' }
  | { kind: 'days'; weekdays: ReadonlySet<number> }
  | { kind: 'last'; weekday: number }
  | { kind: 'nth'; weekday: number; nth: number };

export interface CronExpression {
  kind: 'cron';
  source: string;
  /** Ascending. */
  minutes: readonly number[];
  /** Ascending. */
  hours: readonly number[];
  dayOfMonth: DayOfMonthRule;
  /** 1-12. */
  months: ReadonlySet<number>;
  dayOfWeek: DayOfWeekRule;
  /** Undefined means every year up to 2199. */
  years: ReadonlySet<number> | undefined;
}

export type ScheduleExpression = RateExpression | CronExpression;

export const firstYear = 1970;
export const lastYear = 2199;

const unitMs: Record<RateUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Throws ScheduleExpressionError (NIMBUS_SCHEDULE_BAD_EXPRESSION) naming the part at fault. */
export function parseScheduleExpression(text: string): ScheduleExpression {
  const source = text.trim();
  const rate = /^rate\((.*)\)$/s.exec(source);
  if (rate) return parseRate(source, rate[1]!);
  const cron = /^cron\((.*)\)$/s.exec(source);
  if (cron) return parseCron(source, cron[1]!);
  throw new ScheduleExpressionError(
    source,
    'expected rate(<value> <unit>) or cron(<minutes> <hours> <day-of-month> <month> ' +
      '<day-of-week> <year>)',
  );
}

function parseRate(source: string, inner: string): RateExpression {
  const fail = (detail: string): never => {
    throw new ScheduleExpressionError(source, detail);
  };
  const parts = inner.trim().split(/\s+/);
  if (parts.length !== 2) return fail('expected rate(<value> <unit>), e.g. rate(5 minutes)');
  const [valueText, unitText] = parts as [string, string];
  if (!/^\d+$/.test(valueText) || Number(valueText) < 1) {
    return fail(`the value ${valueText} must be a whole number of at least 1`);
  }
  const value = Number(valueText);
  const match = /^(minute|hour|day)(s?)$/.exec(unitText);
  if (!match) return fail(`the unit ${unitText} must be minute(s), hour(s) or day(s)`);
  const unit = match[1] as RateUnit;
  const plural = match[2] === 's';
  // AWS refuses `rate(1 minutes)` and `rate(5 minute)`; accepting them would let a config pass
  // here that fails on AWS.
  if (value === 1 && plural) return fail(`use the singular for 1: rate(1 ${unit})`);
  if (value !== 1 && !plural) return fail(`use the plural for ${value}: rate(${value} ${unit}s)`);
  const periodMs = value * unitMs[unit];
  if (!Number.isSafeInteger(periodMs)) return fail(`the value ${valueText} is too large`);
  return { kind: 'rate', source, value, unit, periodMs };
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for min, min+1, ... (JAN = 1, SUN = 1). */
  names?: readonly string[];
  /** Whether a backwards range wraps around (FRI-MON, 22-2); never for years. */
  cyclic: boolean;
  /** AWS allows `/` everywhere but day-of-week. */
  steps: boolean;
}

const minutesField: FieldSpec = { name: 'minutes', min: 0, max: 59, cyclic: true, steps: true };
const hoursField: FieldSpec = { name: 'hours', min: 0, max: 23, cyclic: true, steps: true };
const dayOfMonthField: FieldSpec = {
  name: 'day-of-month',
  min: 1,
  max: 31,
  cyclic: true,
  steps: true,
};
const monthField: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  cyclic: true,
  steps: true,
};
const dayOfWeekField: FieldSpec = {
  name: 'day-of-week',
  min: 1,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
  cyclic: true,
  steps: false,
};
const yearField: FieldSpec = {
  name: 'year',
  min: firstYear,
  max: lastYear,
  cyclic: false,
  steps: true,
};

function parseCron(source: string, inner: string): CronExpression {
  const fields = inner.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(
      source,
      `expected 6 fields (minutes hours day-of-month month day-of-week year), found ` +
        `${inner.trim() === '' ? 0 : fields.length}`,
    );
  }
  const [minutes, hours, dom, month, dow, year] = fields.map((f) => f.toUpperCase()) as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // Checked first: it is the mistake Unix-cron habits make (`0 12 * * *` plus a year).
  if (dom === '?' && dow === '?') {
    throw new ScheduleExpressionError(
      source,
      'day-of-month and day-of-week cannot both be ?; set one of them',
    );
  }
  if (dom !== '?' && dow !== '?') {
    throw new ScheduleExpressionError(
      source,
      'day-of-month and day-of-week cannot both be set; use ? in one of them',
    );
  }
  return {
    kind: 'cron',
    source,
    minutes: sorted(parseList(source, minutes, minutesField)),
    hours: sorted(parseList(source, hours, hoursField)),
    dayOfMonth: parseDayOfMonth(source, dom),
    months: parseList(source, month, monthField),
    dayOfWeek: parseDayOfWeek(source, dow),
    years: year === '*' ? undefined : parseList(source, year, yearField),
  };
}

function parseDayOfMonth(source: string, text: string): DayOfMonthRule {
  const fail = failer(source, dayOfMonthField);
  if (text === '?' || text === '*') return { kind: 'any' };
  if (text === 'L') return { kind: 'last' };
  if (text === 'LW') return { kind: 'lastWeekday' };
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) return { kind: 'nearestWeekday', day: value(source, nearest[1]!, dayOfMonthField) };
  if (/[LW]/.test(text)) {
    return fail(`${text}: L and W stand alone (L, LW or a single day such as 15W)`);
  }
  return { kind: 'days', days: parseList(source, text, dayOfMonthField) };
}

function parseDayOfWeek(source: string, text: string): DayOfWeekRule {
  const fail = failer(source, dayOfWeekField);
  if (text === '?' || text === '*') return { kind: 'any' };
  // AWS: L alone is the last day of the week, which starts on Sunday: Saturday.
  if (text === 'L') return { kind: 'last', weekday: 6 };
  const last = /^(\w+)L$/.exec(text);
  if (last) return { kind: 'last', weekday: value(source, last[1]!, dayOfWeekField) - 1 };
  const nth = /^(\w+)#(\w+)$/.exec(text);
  if (nth) {
    const weekday = value(source, nth[1]!, dayOfWeekField) - 1;
    if (!/^[1-5]$/.test(nth[2]!)) return fail(`${text}: the number after # must be 1-5`);
    return { kind: 'nth', weekday, nth: Number(nth[2]) };
  }
  if (/[L#]/.test(text)) {
    return fail(`${text}: L and # stand alone (L, 6L or 3#2), not in lists or ranges`);
  }
  const weekdays = new Set([...parseList(source, text, dayOfWeekField)].map((d) => d - 1));
  return { kind: 'days', weekdays };
}

/** `*`, `a`, `a-b`, with `/step` on any of them, comma-separated. */
function parseList(source: string, text: string, spec: FieldSpec): Set<number> {
  const fail = failer(source, spec);
  const out = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') return fail(`${text}: empty item in a list`);
    if (item.includes('?')) return fail('? is only allowed in day-of-month or day-of-week');
    const slash = item.split('/');
    if (slash.length > 2) return fail(`${item}: more than one /`);
    const [rangeText, stepText] = slash as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!spec.steps) return fail(`${item}: AWS does not allow steps (/) in ${spec.name}`);
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        return fail(`${item}: the step must be a whole number of at least 1`);
      }
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (rangeText === '*') {
      start = spec.min;
      end = spec.max;
    } else if (rangeText.includes('-')) {
      const bounds = rangeText.split('-');
      if (bounds.length !== 2) return fail(`${rangeText}: a range is <from>-<to>`);
      start = value(source, bounds[0]!, spec);
      end = value(source, bounds[1]!, spec);
    } else {
      start = value(source, rangeText, spec);
      // `0/15`: from 0 to the end of the field's range.
      end = stepText === undefined ? start : spec.max;
    }
    if (start <= end) {
      for (let v = start; v <= end; v += step) out.add(v);
    } else if (spec.cyclic) {
      const span = spec.max - spec.min + 1;
      const distance = end - start + span;
      for (let k = 0; k <= distance; k += step) out.add(spec.min + ((start - spec.min + k) % span));
    } else {
      return fail(`${rangeText}: the range runs backwards`);
    }
  }
  return out;
}

function value(source: string, token: string, spec: FieldSpec): number {
  const fail = failer(source, spec);
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max) {
      return fail(`${token} is out of range ${spec.min}-${spec.max}`);
    }
    return n;
  }
  const index = spec.names?.indexOf(token) ?? -1;
  if (index >= 0) return spec.min + index;
  const names = spec.names ? ` or ${spec.names[0]}-${spec.names[spec.names.length - 1]}` : '';
  return fail(`${token === '' ? '(empty)' : token} is not ${spec.min}-${spec.max}${names}`);
}

function failer(source: string, spec: FieldSpec) {
  return (detail: string): never => {
    throw new ScheduleExpressionError(source, detail, spec.name);
  };
}

function sorted(values: Set<number>): number[] {
  return [...values].sort((a, b) => a - b);
}
