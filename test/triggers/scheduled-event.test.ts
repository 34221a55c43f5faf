import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionDefinition, ScheduleEvent } from '../../src/model/service-definition.js';
import {
  compileSchedule,
  type Schedule,
  schedulesOf,
  validateScheduleEvent,
} from '../../src/platform/triggers/schedule/schedule.js';
import { scheduledEvent } from '../../src/platform/triggers/schedule/scheduled-event.js';

function fn(name: string, events: ScheduleEvent[]): FunctionDefinition {
  return {
    key: name,
    name: `svc-dev-${name}`,
    handler: 'h.handler',
    runtime: 'nodejs20.x',
    runtimeFamily: 'nodejs',
    memorySize: 128,
    timeout: 6,
    environment: {},
    events,
    handlerFile: 'h.js',
  };
}

const sched = (rate: string[], extra: Partial<ScheduleEvent> = {}): ScheduleEvent => ({
  kind: 'schedule',
  rate,
  enabled: true,
  ...extra,
});

describe('schedulesOf', () => {
  it('makes one schedule per expression, numbered per function from 1, or named', () => {
    const list = schedulesOf(
      [
        fn('a', [sched(['rate(5 minutes)', 'cron(0 12 * * ? *)']), sched(['rate(1 hour)'])]),
        fn('b', [sched(['rate(1 day)'], { name: 'nightly' })]),
      ],
      { qualifier: 'live' },
    );
    assert.deepEqual(
      list.map((s) => [s.id, s.functionName, s.qualifier, s.expression]),
      [
        ['svc-dev-a-schedule-1', 'svc-dev-a', 'live', 'rate(5 minutes)'],
        ['svc-dev-a-schedule-2', 'svc-dev-a', 'live', 'cron(0 12 * * ? *)'],
        ['svc-dev-a-schedule-3', 'svc-dev-a', 'live', 'rate(1 hour)'],
        ['nightly', 'svc-dev-b', 'live', 'rate(1 day)'],
      ],
    );
  });

  it('refuses a name on more than one expression, as Serverless does', () => {
    assert.throws(
      () => schedulesOf([fn('a', [sched(['rate(5 minutes)', 'rate(1 hour)'], { name: 'n' })])]),
      { code: 'NIMBUS_SCHEDULE_BAD_CONFIG', message: /names more than one rate expression/ },
    );
  });
});

describe('validateScheduleEvent', () => {
  it('checks expressions, timezone and input', () => {
    validateScheduleEvent(sched(['cron(0 9 ? * MON-FRI *)'], { timezone: 'Europe/Berlin' }));
    assert.throws(() => validateScheduleEvent(sched(['cron(0 12 * * * *)'])), {
      code: 'NIMBUS_SCHEDULE_BAD_EXPRESSION',
    });
    assert.throws(() => validateScheduleEvent(sched(['rate(1 hour)'], { timezone: 'Mars/Base' })), {
      code: 'NIMBUS_SCHEDULE_BAD_CONFIG',
      message: 'timezone "Mars/Base" is not an IANA time zone name (e.g. Europe/Berlin)',
    });
    assert.throws(() => validateScheduleEvent(sched(['rate(1 hour)'], { input: 'not json' })), {
      code: 'NIMBUS_SCHEDULE_BAD_CONFIG',
      message: /input must be JSON/,
    });
  });

  it('the spec changes with expression, timezone and enabled, nothing else', () => {
    const base: Schedule = {
      id: 'x',
      functionName: 'f',
      expression: 'rate(1 hour)',
      event: sched(['rate(1 hour)']),
    };
    const spec = (s: Schedule) => compileSchedule(s).spec;
    assert.equal(spec(base), spec({ ...base, event: { ...base.event, description: 'd' } }));
    assert.notEqual(spec(base), spec({ ...base, event: { ...base.event, enabled: false } }));
    assert.notEqual(spec(base), spec({ ...base, event: { ...base.event, timezone: 'UTC' } }));
    assert.notEqual(spec(base), spec({ ...base, expression: 'rate(2 hours)' }));
  });
});

describe('scheduledEvent', () => {
  const schedule: Schedule = {
    id: 'svc-dev-a-schedule-1',
    functionName: 'svc-dev-a',
    expression: 'rate(5 minutes)',
    event: sched(['rate(5 minutes)']),
  };

  it('is the EventBridge Scheduled Event with the slot time to the second', () => {
    const event = scheduledEvent(schedule, new Date('2026-03-10T10:05:00.000Z'), {
      region: 'local',
      newId: () => '6f1c2b0e-0000-4000-8000-000000000001',
    });
    assert.deepEqual(event, {
      version: '0',
      id: '6f1c2b0e-0000-4000-8000-000000000001',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-03-10T10:05:00Z',
      region: 'local',
      resources: ['arn:aws:events:local:000000000000:rule/svc-dev-a-schedule-1'],
      detail: {},
    });
  });

  it('gives each event a fresh uuid', () => {
    const at = new Date('2026-03-10T10:05:00Z');
    const a = scheduledEvent(schedule, at, { region: 'r' }) as { id: string };
    const b = scheduledEvent(schedule, at, { region: 'r' }) as { id: string };
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.id, b.id);
  });

  it('is `input` itself when set: objects as given, strings and input.body parsed as JSON', () => {
    const at = new Date('2026-03-10T10:05:00Z');
    const withInput = (input: unknown) =>
      scheduledEvent({ ...schedule, event: { ...schedule.event, input } }, at, { region: 'r' });
    assert.deepEqual(withInput({ key1: 'value1', stageParams: { stage: 'dev' } }), {
      key1: 'value1',
      stageParams: { stage: 'dev' },
    });
    assert.deepEqual(withInput('{"a":1}'), { a: 1 });
    assert.deepEqual(withInput({ body: '{"b":2}' }), { body: { b: 2 } });
    // A copy: a handler-side change cannot leak into the next fire.
    const input = { n: 1 };
    const event = withInput(input) as { n: number };
    event.n = 2;
    assert.equal(input.n, 1);
  });
});
