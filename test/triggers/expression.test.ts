import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScheduleExpression } from '../../src/platform/triggers/schedule/expression.js';

function refuses(expression: string, message: RegExp | string, field?: string) {
  assert.throws(
    () => parseScheduleExpression(expression),
    (err: Error & { code?: string; field?: string }) => {
      assert.equal(err.code, 'NIMBUS_SCHEDULE_BAD_EXPRESSION', expression);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      assert.equal(err.field, field, expression);
      return true;
    },
  );
}

describe('rate expressions', () => {
  it('reads value and unit into a period', () => {
    for (const [text, periodMs] of [
      ['rate(1 minute)', 60_000],
      ['rate(5 minutes)', 300_000],
      ['rate(1 hour)', 3_600_000],
      ['rate(12 hours)', 43_200_000],
      ['rate(1 day)', 86_400_000],
      ['rate(7 days)', 604_800_000],
      ['  rate(10 minutes) ', 600_000],
    ] as const) {
      const expr = parseScheduleExpression(text);
      assert.equal(expr.kind, 'rate');
      assert.equal(expr.kind === 'rate' && expr.periodMs, periodMs, text);
    }
  });

  it('takes the singular only for 1 and the plural otherwise, as AWS does', () => {
    refuses('rate(1 minutes)', 'rate(1 minutes): use the singular for 1: rate(1 minute)');
    refuses('rate(5 minute)', 'rate(5 minute): use the plural for 5: rate(5 minutes)');
    refuses('rate(2 day)', /rate\(2 days\)/);
  });

  it('refuses zero, fractions, negative values and unknown units', () => {
    refuses('rate(0 minutes)', /the value 0 must be a whole number of at least 1/);
    refuses('rate(1.5 hours)', /the value 1.5 must be a whole number/);
    refuses('rate(-1 minutes)', /the value -1 must be/);
    refuses('rate(5 weeks)', /the unit weeks must be minute\(s\), hour\(s\) or day\(s\)/);
    refuses('rate(5)', /expected rate\(<value> <unit>\)/);
    refuses('every 5 minutes', /expected rate\(<value> <unit>\) or cron\(/);
  });
});

describe('cron expressions', () => {
  it('reads lists, ranges, steps and names; day-of-week 1 is Sunday', () => {
    const expr = parseScheduleExpression('cron(0/15 8-17/3 ? JAN,mar-may MON-FRI 2026-2028)');
    assert.equal(expr.kind, 'cron');
    if (expr.kind !== 'cron') return;
    assert.deepEqual(expr.minutes, [0, 15, 30, 45]);
    assert.deepEqual(expr.hours, [8, 11, 14, 17]);
    assert.deepEqual(
      [...expr.months].sort((a, b) => a - b),
      [1, 3, 4, 5],
    );
    assert.deepEqual(expr.dayOfWeek, { kind: 'days', weekdays: new Set([1, 2, 3, 4, 5]) });
    assert.deepEqual(expr.dayOfMonth, { kind: 'any' });
    assert.deepEqual([...(expr.years ?? [])], [2026, 2027, 2028]);
    const numeric = parseScheduleExpression('cron(10-50/10 */6 ? * 1,7 *)');
    if (numeric.kind !== 'cron') return;
    assert.deepEqual(numeric.minutes, [10, 20, 30, 40, 50]);
    assert.deepEqual(numeric.hours, [0, 6, 12, 18]);
    assert.deepEqual(numeric.dayOfWeek, { kind: 'days', weekdays: new Set([0, 6]) });
    assert.equal(numeric.years, undefined);
  });

  it('wraps backwards ranges in cyclic fields', () => {
    const expr = parseScheduleExpression('cron(0 22-2 ? * FRI-MON *)');
    if (expr.kind !== 'cron') return assert.fail();
    assert.deepEqual(expr.hours, [0, 1, 2, 22, 23]);
    assert.deepEqual(expr.dayOfWeek, { kind: 'days', weekdays: new Set([5, 6, 0, 1]) });
  });

  it('reads L, LW, nW, nL and n#k', () => {
    const dom = (text: string) => {
      const e = parseScheduleExpression(`cron(0 0 ${text} * ? *)`);
      return e.kind === 'cron' ? e.dayOfMonth : undefined;
    };
    const dow = (text: string) => {
      const e = parseScheduleExpression(`cron(0 0 ? * ${text} *)`);
      return e.kind === 'cron' ? e.dayOfWeek : undefined;
    };
    assert.deepEqual(dom('L'), { kind: 'last' });
    assert.deepEqual(dom('LW'), { kind: 'lastWeekday' });
    assert.deepEqual(dom('15W'), { kind: 'nearestWeekday', day: 15 });
    assert.deepEqual(dow('6L'), { kind: 'last', weekday: 5 });
    assert.deepEqual(dow('FRIL'), { kind: 'last', weekday: 5 });
    assert.deepEqual(dow('L'), { kind: 'last', weekday: 6 });
    assert.deepEqual(dow('3#2'), { kind: 'nth', weekday: 2, nth: 2 });
    assert.deepEqual(dow('MON#1'), { kind: 'nth', weekday: 1, nth: 1 });
  });

  it('demands ? in exactly one of the day fields', () => {
    refuses(
      'cron(0 12 * * * *)',
      'cron(0 12 * * * *): day-of-month and day-of-week cannot both be set; use ? in one of them',
    );
    refuses('cron(0 12 1 * MON *)', /cannot both be set; use \? in one of them/);
    refuses('cron(0 12 ? * ? *)', /day-of-month and day-of-week cannot both be \?/);
    refuses(
      'cron(? 12 * * ? *)',
      /minutes: \? is only allowed in day-of-month or day-of-week/,
      'minutes',
    );
  });

  it('names the field and the bad value', () => {
    refuses(
      'cron(60 * * * ? *)',
      'cron(60 * * * ? *): minutes: 60 is out of range 0-59',
      'minutes',
    );
    refuses('cron(0 24 * * ? *)', /hours: 24 is out of range 0-23/, 'hours');
    refuses('cron(0 0 32 * ? *)', /day-of-month: 32 is out of range 1-31/, 'day-of-month');
    refuses('cron(0 0 0 * ? *)', /day-of-month: 0 is out of range 1-31/, 'day-of-month');
    refuses('cron(0 0 * 13 ? *)', /month: 13 is out of range 1-12/, 'month');
    refuses('cron(0 0 * JANUARY ? *)', /month: JANUARY is not 1-12 or JAN-DEC/, 'month');
    refuses('cron(0 0 ? * 0 *)', /day-of-week: 0 is out of range 1-7/, 'day-of-week');
    refuses('cron(0 0 ? * 8 *)', /day-of-week: 8 is out of range 1-7/, 'day-of-week');
    refuses('cron(0 0 ? * FUN *)', /day-of-week: FUN is not 1-7 or SUN-SAT/, 'day-of-week');
    refuses('cron(0 0 * * ? 1969)', /year: 1969 is out of range 1970-2199/, 'year');
    refuses('cron(0 0 * * ? 2200)', /year: 2200 is out of range 1970-2199/, 'year');
    refuses('cron(0 0 * * ? 2030-2026)', /year: 2030-2026: the range runs backwards/, 'year');
    refuses('cron(0/0 * * * ? *)', /minutes: 0\/0: the step must be a whole number/, 'minutes');
    refuses('cron(1,,2 * * * ? *)', /minutes: 1,,2: empty item in a list/, 'minutes');
  });

  it('keeps L, W and # to the fields and forms AWS allows', () => {
    refuses(
      'cron(0 0 ? * 2#6 *)',
      /day-of-week: 2#6: the number after # must be 1-5/,
      'day-of-week',
    );
    refuses('cron(0 0 ? * 2#1,3 *)', /day-of-week: 2#1,3: L and # stand alone/, 'day-of-week');
    refuses('cron(0 0 1-15W * ? *)', /day-of-month: 1-15W: L and W stand alone/, 'day-of-month');
    refuses('cron(0 0 L,1 * ? *)', /day-of-month: L,1: L and W stand alone/, 'day-of-month');
    refuses('cron(0 0 ? * 1/2 *)', /day-of-week: 1\/2: AWS does not allow steps/, 'day-of-week');
    refuses('cron(L 0 * * ? *)', /minutes: L is not 0-59/, 'minutes');
  });

  it('wants exactly six fields', () => {
    refuses(
      'cron(0 12 * * ?)',
      'cron(0 12 * * ?): expected 6 fields (minutes hours ' +
        'day-of-month month day-of-week year), found 5',
    );
    refuses('cron()', /found 0/);
  });
});
