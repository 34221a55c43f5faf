import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latestFire, nextFire } from '../../src/platform/triggers/schedule/next-fire.js';

/** The next `count` slots after `after`, as ISO strings. */
function slots(expression: string, after: string, count: number, timezone?: string): string[] {
  const out: string[] = [];
  let at = new Date(after);
  for (let i = 0; i < count; i++) {
    const next = nextFire(expression, at, timezone);
    if (next === undefined) break;
    out.push(next.toISOString().replace('.000Z', 'Z'));
    at = next;
  }
  return out;
}

describe('nextFire for rate expressions', () => {
  it('fires on whole multiples of the period since the epoch, strictly after `after`', () => {
    assert.deepEqual(slots('rate(5 minutes)', '2026-03-10T10:02:17Z', 3), [
      '2026-03-10T10:05:00Z',
      '2026-03-10T10:10:00Z',
      '2026-03-10T10:15:00Z',
    ]);
    assert.deepEqual(slots('rate(1 minute)', '2026-03-10T10:05:00Z', 1), ['2026-03-10T10:06:00Z']);
    assert.deepEqual(slots('rate(2 hours)', '2026-03-10T10:00:00Z', 2), [
      '2026-03-10T12:00:00Z',
      '2026-03-10T14:00:00Z',
    ]);
    assert.deepEqual(slots('rate(1 day)', '2026-03-10T10:00:00Z', 1), ['2026-03-11T00:00:00Z']);
  });

  it('is a fixed duration whatever the timezone', () => {
    assert.deepEqual(slots('rate(1 day)', '2026-03-07T12:00:00Z', 3, 'America/New_York'), [
      '2026-03-08T00:00:00Z',
      '2026-03-09T00:00:00Z',
      '2026-03-10T00:00:00Z',
    ]);
  });
});

describe('nextFire for cron expressions (UTC)', () => {
  it('steps: 0/15 every quarter hour, */5 and 10-50/10', () => {
    assert.deepEqual(slots('cron(0/15 * * * ? *)', '2026-03-10T10:07:30Z', 4), [
      '2026-03-10T10:15:00Z',
      '2026-03-10T10:30:00Z',
      '2026-03-10T10:45:00Z',
      '2026-03-10T11:00:00Z',
    ]);
    assert.deepEqual(slots('cron(*/5 * * * ? *)', '2026-03-10T23:57:00Z', 2), [
      '2026-03-11T00:00:00Z',
      '2026-03-11T00:05:00Z',
    ]);
    assert.deepEqual(slots('cron(10-50/10 9 * * ? *)', '2026-03-10T09:45:00Z', 3), [
      '2026-03-10T09:50:00Z',
      '2026-03-11T09:10:00Z',
      '2026-03-11T09:20:00Z',
    ]);
  });

  it('a fixed time of day; a slot equal to `after` is not next', () => {
    assert.deepEqual(slots('cron(0 12 * * ? *)', '2026-03-10T12:00:00Z', 2), [
      '2026-03-11T12:00:00Z',
      '2026-03-12T12:00:00Z',
    ]);
    assert.deepEqual(slots('cron(0 12 * * ? *)', '2026-03-10T11:59:59.999Z', 1), [
      '2026-03-10T12:00:00Z',
    ]);
  });

  it('6L: the last Friday of each month of 2026', () => {
    assert.deepEqual(slots('cron(0 10 ? * 6L 2026)', '2026-01-01T00:00:00Z', 4), [
      '2026-01-30T10:00:00Z',
      '2026-02-27T10:00:00Z',
      '2026-03-27T10:00:00Z',
      '2026-04-24T10:00:00Z',
    ]);
    // The year list ends: nothing after the last Friday of 2026.
    assert.equal(nextFire('cron(0 10 ? * 6L 2026)', new Date('2026-12-25T10:00:00Z')), undefined);
  });

  it('15W: the weekday nearest the 15th, within the month', () => {
    // 15 Feb 2026 is a Sunday -> Monday 16th; 15 Mar is a Sunday too; 15 Aug is a Saturday.
    assert.deepEqual(slots('cron(0 9 15W * ? *)', '2026-02-01T00:00:00Z', 3), [
      '2026-02-16T09:00:00Z',
      '2026-03-16T09:00:00Z',
      '2026-04-15T09:00:00Z',
    ]);
    assert.deepEqual(slots('cron(0 9 15W * ? *)', '2026-08-01T00:00:00Z', 1), [
      '2026-08-14T09:00:00Z',
    ]);
    // 1 Aug 2026 is a Saturday: 1W moves forward to Monday the 3rd, never back into July.
    assert.deepEqual(slots('cron(0 9 1W 8 ? 2026)', '2026-07-01T00:00:00Z', 1), [
      '2026-08-03T09:00:00Z',
    ]);
    // 31W never fires in a 30-day month.
    assert.deepEqual(slots('cron(0 9 31W 4,5 ? 2026)', '2026-04-01T00:00:00Z', 1), [
      '2026-05-29T09:00:00Z',
    ]);
  });

  it('LW: the last weekday of the month', () => {
    // 31 May 2026 is a Sunday -> Friday 29th; 30 June is a Tuesday.
    assert.deepEqual(slots('cron(0 18 LW * ? *)', '2026-05-01T00:00:00Z', 2), [
      '2026-05-29T18:00:00Z',
      '2026-06-30T18:00:00Z',
    ]);
  });

  it('L: the last day of the month, leap years included', () => {
    assert.deepEqual(slots('cron(0 0 L * ? *)', '2028-01-15T00:00:00Z', 3), [
      '2028-01-31T00:00:00Z',
      '2028-02-29T00:00:00Z',
      '2028-03-31T00:00:00Z',
    ]);
  });

  it('2#1: the first Monday; 3#2 the second Tuesday; L alone in day-of-week is Saturday', () => {
    assert.deepEqual(slots('cron(0 12 ? * 2#1 *)', '2026-02-01T00:00:00Z', 3), [
      '2026-02-02T12:00:00Z',
      '2026-03-02T12:00:00Z',
      '2026-04-06T12:00:00Z',
    ]);
    assert.deepEqual(slots('cron(0 12 ? * TUE#2 *)', '2026-02-01T00:00:00Z', 1), [
      '2026-02-10T12:00:00Z',
    ]);
    assert.deepEqual(slots('cron(0 12 ? * L *)', '2026-02-01T00:00:00Z', 1), [
      '2026-02-28T12:00:00Z',
    ]);
    // A fifth Monday only in some months.
    assert.deepEqual(slots('cron(0 0 ? * MON#5 *)', '2026-01-01T00:00:00Z', 2), [
      '2026-03-30T00:00:00Z',
      '2026-06-29T00:00:00Z',
    ]);
  });

  it('month and day names, and 1 = SUN in day-of-week', () => {
    assert.deepEqual(slots('cron(0 8 ? JUN-AUG MON-FRI *)', '2026-05-29T00:00:00Z', 2), [
      '2026-06-01T08:00:00Z',
      '2026-06-02T08:00:00Z',
    ]);
    // 1 is Sunday: 1 Feb 2026 is a Sunday.
    assert.deepEqual(slots('cron(0 8 ? * 1 *)', '2026-01-31T00:00:00Z', 1), [
      '2026-02-01T08:00:00Z',
    ]);
    assert.deepEqual(slots('cron(0 8 ? * 7 *)', '2026-01-31T09:00:00Z', 1), [
      '2026-02-07T08:00:00Z',
    ]);
    assert.deepEqual(slots('cron(0 0 1 jan ? *)', '2026-06-01T00:00:00Z', 1), [
      '2027-01-01T00:00:00Z',
    ]);
  });

  it('year bounds: the last slot is in 2199; a day that never comes never fires', () => {
    assert.deepEqual(slots('cron(59 23 31 12 ? *)', '2199-06-01T00:00:00Z', 2), [
      '2199-12-31T23:59:00Z',
    ]);
    assert.deepEqual(slots('cron(0 0 * * ? 1970)', '1969-12-31T23:00:00Z', 1), [
      '1970-01-01T00:00:00Z',
    ]);
    assert.equal(nextFire('cron(0 0 30 2 ? *)', new Date('2026-01-01T00:00:00Z')), undefined);
    assert.deepEqual(slots('cron(0 0 29 2 ? *)', '2026-01-01T00:00:00Z', 1), [
      '2028-02-29T00:00:00Z',
    ]);
  });
});

describe('nextFire with a timezone', () => {
  it('computes in wall-clock time of the zone', () => {
    // 09:00 in Berlin is 08:00Z in winter (CET) and 07:00Z in summer (CEST).
    assert.deepEqual(slots('cron(0 9 * * ? *)', '2026-03-27T12:00:00Z', 4, 'Europe/Berlin'), [
      '2026-03-28T08:00:00Z',
      '2026-03-29T07:00:00Z',
      '2026-03-30T07:00:00Z',
      '2026-03-31T07:00:00Z',
    ]);
  });

  it('spring forward: a wall time that does not exist is skipped that day', () => {
    // New York skips 02:00-03:00 on 8 March 2026.
    assert.deepEqual(slots('cron(30 2 * * ? *)', '2026-03-06T12:00:00Z', 3, 'America/New_York'), [
      '2026-03-07T07:30:00Z',
      '2026-03-09T06:30:00Z',
      '2026-03-10T06:30:00Z',
    ]);
    // Every 30 minutes keeps real-time spacing around the gap.
    assert.deepEqual(slots('cron(0/30 * * * ? *)', '2026-03-08T06:15:00Z', 3, 'America/New_York'), [
      '2026-03-08T06:30:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T07:30:00Z',
    ]);
  });

  it('fall back: a wall time that happens twice fires once, at its first occurrence', () => {
    // New York repeats 01:00-02:00 on 1 November 2026 (EDT, then EST).
    assert.deepEqual(slots('cron(30 1 * * ? *)', '2026-10-31T12:00:00Z', 2, 'America/New_York'), [
      '2026-11-01T05:30:00Z',
      '2026-11-02T06:30:00Z',
    ]);
    // Hourly: 01:00 EDT (05:00Z), then 02:00 EST (07:00Z); the repeated 01:00 EST is not fired.
    assert.deepEqual(slots('cron(0 * * * ? *)', '2026-11-01T04:30:00Z', 3, 'America/New_York'), [
      '2026-11-01T05:00:00Z',
      '2026-11-01T07:00:00Z',
      '2026-11-01T08:00:00Z',
    ]);
  });

  it('a zone with a half-hour offset', () => {
    assert.deepEqual(slots('cron(0 0 * * ? *)', '2026-01-01T00:00:00Z', 1, 'Asia/Kolkata'), [
      '2026-01-01T18:30:00Z',
    ]);
  });
});

describe('latestFire', () => {
  it('is the most recent slot in (after, atOrBefore], or undefined', () => {
    const at = (iso: string) => new Date(iso);
    assert.deepEqual(
      latestFire('rate(5 minutes)', at('2026-03-10T09:00:00Z'), at('2026-03-10T10:07:00Z')),
      at('2026-03-10T10:05:00Z'),
    );
    assert.equal(
      latestFire('rate(5 minutes)', at('2026-03-10T10:05:00Z'), at('2026-03-10T10:09:59Z')),
      undefined,
    );
    assert.deepEqual(
      latestFire('cron(0/15 * * * ? *)', at('2026-03-01T00:00:00Z'), at('2026-03-10T10:07:00Z')),
      at('2026-03-10T10:00:00Z'),
    );
    // Far back: a monthly slot found through the widening windows.
    assert.deepEqual(
      latestFire('cron(0 0 1 * ? *)', at('2020-01-01T00:00:00Z'), at('2026-03-10T10:07:00Z')),
      at('2026-03-01T00:00:00Z'),
    );
    assert.deepEqual(
      latestFire('cron(0 0 1 1 ? 2021)', at('2020-01-01T00:00:00Z'), at('2026-03-10T10:07:00Z')),
      at('2021-01-01T00:00:00Z'),
    );
    assert.equal(
      latestFire('cron(0 0 1 1 ? 2021)', at('2021-01-01T00:00:00Z'), at('2026-03-10T10:07:00Z')),
      undefined,
    );
  });
});
