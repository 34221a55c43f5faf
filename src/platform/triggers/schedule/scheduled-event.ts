/** The event a schedule hands its function: EventBridge's "Scheduled Event", or `input`. */
import { randomUUID } from 'node:crypto';
import { type Schedule, scheduleInput } from './schedule.js';

/** Lambda's placeholder account, as everywhere else in Nimbus's ARNs. */
const account = '000000000000';

export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.events';
  account: string;
  /** The slot's time (not the moment it was handed on), seconds precision. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

/**
 * With `input`, the event is `input` itself and nothing of the EventBridge envelope, as AWS does
 * for a target's Input. `newId` is injectable for tests.
 */
export function scheduledEvent(
  schedule: Schedule,
  scheduledTime: Date,
  opts: { region: string; newId?: () => string },
): ScheduledEvent | unknown {
  if (schedule.event.input !== undefined) return scheduleInput(schedule.event.input, schedule.id);
  return {
    version: '0',
    id: (opts.newId ?? randomUUID)(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account,
    time: scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: opts.region,
    resources: [`arn:aws:events:${opts.region}:${account}:rule/${schedule.id}`],
    detail: {},
  } satisfies ScheduledEvent;
}
