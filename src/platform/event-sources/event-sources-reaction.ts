/**
 * The stage reaction for event source mappings: a stage's `sqs` and `stream` events become its deploy
 * mappings in the Store (new ones get a UUID, changed ones keep theirs, dropped ones go), then
 * the engine re-reads the Store. Every node of a cluster may run it for the same change: the
 * store sync is idempotent.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import type { StageReaction } from '../reconcile/stage-reconciler.js';
import type { EventSourceEngine } from './event-source-engine.js';
import type { MappingStore, WantedMapping } from './mapping-store.js';
import { sqsEventSettings } from './sqs-event.js';
import { streamEventSettings } from './stream-event.js';

export function eventSourcesReaction(deps: {
  mappings: Pick<MappingStore, 'syncStage'>;
  engine: Pick<EventSourceEngine, 'refresh'>;
  clock: Clock;
  logger: Pick<Logger, 'warn'>;
}): StageReaction {
  return {
    name: 'event sources',
    react: async (state) => {
      const wanted: WantedMapping[] = [];
      const seen = new Set<string>();
      for (const fn of state.functions) {
        for (const event of fn.events) {
          if ((event.kind !== 'sqs' && event.kind !== 'stream') || !('config' in event)) continue;
          const result =
            event.kind === 'sqs'
              ? sqsEventSettings(event.config)
              : streamEventSettings(event.config);
          if (!result.ok) {
            // The deploy checks refused anything else; an ARN left unresolved lands here.
            deps.logger.warn(
              { function: fn.name, problems: result.problems },
              `${event.kind} event not mapped`,
            );
            continue;
          }
          const key = `${fn.name}\n${result.arn}`;
          if (seen.has(key)) continue;
          seen.add(key);
          wanted.push({
            ...result.settings,
            functionName: fn.name,
            qualifier: state.stage,
            sourceArn: result.arn,
            service: state.service,
            stage: state.stage,
          });
        }
      }
      await deps.mappings.syncStage(state.service, state.stage, wanted, deps.clock.now());
      await deps.engine.refresh();
    },
  };
}
