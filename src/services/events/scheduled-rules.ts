/**
 * Rules with a ScheduleExpression (PutRule or AWS::Events::Rule) fire on schedule through the
 * platform's one ScheduleRunner (src/platform/triggers/schedule/): each rule is a schedule of
 * the group `eventbridge`, so it gets the runner's injected clock, its timer, its ledger claims
 * (a slot fires once, also across a cluster, where one node at a time ticks) and its catch-up
 * rule (after downtime, one fire for the latest missed slot). A claimed slot queues one target
 * job per target (target-jobs.ts) in the claim's own transaction: claimed iff queued.
 */

import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Schedule } from '../../platform/triggers/schedule/schedule.js';
import type {
  ScheduleFireOptions,
  ScheduleRunner,
} from '../../platform/triggers/schedule/scheduler.js';
import type { WorkQueue } from '../../queue/work-queue.js';
import type { TargetJob } from './bus-delivery.js';
import { ruleArn } from './events-arns.js';
import { defaultBus, type EventsStore } from './events-store.js';
import { targetInput } from './target-input.js';
import type { TargetJobs } from './target-jobs.js';

/** Schedule ids of rules; `:` never appears in a rule or function name, so none clash. */
const idPrefix = 'events-rule:';
const group = 'eventbridge';

export function isRuleSchedule(schedule: Schedule): boolean {
  return schedule.id.startsWith(idPrefix);
}

/** The schedules of the scheduled rules (only the default bus may have them). */
export async function ruleSchedules(store: EventsStore): Promise<Schedule[]> {
  const rules = await store.listRules(defaultBus);
  return rules.flatMap((rule) => {
    const expression = rule.settings.ScheduleExpression;
    if (expression === undefined) return [];
    return [
      {
        id: `${idPrefix}${rule.name}`,
        // Not a function's schedule: the slot goes to the rule's targets (ruleFiring).
        functionName: '',
        expression,
        event: {
          kind: 'schedule',
          rate: [expression],
          enabled: rule.settings.State === 'ENABLED',
          name: rule.name,
        },
      } satisfies Schedule,
    ];
  });
}

/**
 * Keeps the runner's `eventbridge` group in line with the store: after a change made here
 * (`refresh()`), and on a period, which is how changes made through another node arrive.
 */
export class ScheduledRules {
  readonly #store: EventsStore;
  readonly #runner: Pick<ScheduleRunner<unknown>, 'setSchedules'>;
  #last = '';
  #chain: Promise<void> = Promise.resolve();

  constructor(deps: {
    store: EventsStore;
    runner: Pick<ScheduleRunner<unknown>, 'setSchedules'>;
  }) {
    this.#store = deps.store;
    this.#runner = deps.runner;
  }

  /** Re-reads the scheduled rules; hands them to the runner only when they changed. */
  refresh(): Promise<void> {
    const run = this.#chain.then(async () => {
      const schedules = await ruleSchedules(this.#store);
      const text = JSON.stringify(schedules);
      if (text === this.#last) return;
      await this.#runner.setSchedules(schedules, group);
      this.#last = text;
    });
    this.#chain = run.catch(() => {});
    return run;
  }
}

export interface RuleFiringDeps<Ctx> {
  store: EventsStore;
  region: string;
  jobs: TargetJobs;
  /** The work queue inside the claim's transaction (`ctx` from the ledger). */
  queueWithin: (ctx: Ctx) => WorkQueue;
}

/**
 * Prepare (outside the claim: reads the rule and its targets, builds the Scheduled Event and
 * each target's input) and fire (inside it: queues the target jobs through the transaction).
 */
export function ruleFiring<Ctx>(
  deps: RuleFiringDeps<Ctx>,
): Pick<ScheduleFireOptions<Ctx>, 'prepare' | 'fire'> {
  return {
    prepare: async (schedule, at): Promise<TargetJob[]> => {
      const name = schedule.id.slice(idPrefix.length);
      const rule = await deps.store.findRule(defaultBus, name);
      if (rule?.settings.State !== 'ENABLED') return [];
      const arn = ruleArn(deps.region, defaultBus, name);
      const event = {
        version: '0',
        id: crypto.randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: NIMBUS_ACCOUNT_ID,
        time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: deps.region,
        resources: [arn],
        detail: {},
      };
      const context = { ruleArn: arn, ruleName: name, ingestionTime: at.toISOString() };
      return (await deps.store.targets(defaultBus, name)).map((target) => ({
        ruleArn: arn,
        target,
        input: targetInput(target, event, context),
        acceptedAt: at.getTime(),
        attempts: 0,
      }));
    },
    fire: async (_schedule, _at, ctx, prepared) => {
      const queue = deps.queueWithin(ctx);
      for (const job of prepared as TargetJob[]) await deps.jobs.enqueue(job, { queue });
      // Before the commit, as schedule-firing.ts wakes the async worker: on SQLite the lease
      // waits for it; on PostgreSQL a lease that comes too early leaves it to the next period.
      if ((prepared as TargetJob[]).length > 0) deps.jobs.kick();
    },
  };
}

/** One prepare/fire for the runner: rule schedules to `rules`, the others to `functions`. */
export function withRuleSchedules<Ctx>(
  functions: Pick<ScheduleFireOptions<Ctx>, 'prepare' | 'fire'>,
  rules: () => Pick<ScheduleFireOptions<Ctx>, 'prepare' | 'fire'>,
): Pick<ScheduleFireOptions<Ctx>, 'prepare' | 'fire'> {
  return {
    prepare: async (schedule, at) =>
      isRuleSchedule(schedule)
        ? rules().prepare?.(schedule, at)
        : functions.prepare?.(schedule, at),
    fire: (schedule, at, ctx, prepared) =>
      isRuleSchedule(schedule)
        ? rules().fire(schedule, at, ctx, prepared)
        : functions.fire(schedule, at, ctx, prepared),
  };
}
