import type { StoreTx } from '../../store/group-commit.js';
import type { Schedule } from '../triggers/schedule/schedule.js';
import { scheduledEvent } from '../triggers/schedule/scheduled-event.js';
import type { ScheduleFireOptions } from '../triggers/schedule/scheduler.js';
import type { AsyncInvoker, PreparedEvent } from './async-invoker.js';

/**
 * How schedules hand a slot to the async path, exactly once: the event is prepared (function
 * resolved) before the claim, then accepted inside the claim's transaction, so the ledger's
 * claim and the queued event commit together or not at all. Needs a KyselyScheduleLedger in
 * `same-transaction` mode on the same database handle as the queue.
 */
export function scheduleFiring(
  asyncInvoker: AsyncInvoker,
  opts: { region: string },
): Pick<ScheduleFireOptions<StoreTx>, 'prepare' | 'fire'> {
  return {
    prepare: (schedule: Schedule, at: Date) =>
      asyncInvoker.prepare(
        schedule.functionName,
        schedule.qualifier,
        JSON.stringify(scheduledEvent(schedule, at, { region: opts.region })),
      ),
    fire: async (_schedule, _at, tx, prepared) => {
      await asyncInvoker.acceptWithin(tx, prepared as PreparedEvent);
      // Before the commit: the worker's next look waits for it on SQLite, and on PostgreSQL it
      // polls again shortly anyway.
      asyncInvoker.wake();
    },
  };
}
