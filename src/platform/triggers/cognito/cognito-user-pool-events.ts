/**
 * `cognitoUserPool` events with `existing: true`: the pool is not the stage's, so its trigger
 * is attached by pool name while the stage is deployed (one stage at a time, by the
 * reconciler) and found when the pool's step runs. Events without `existing` make or extend the
 * pool itself (its `LambdaConfig`, in the resource plan).
 */
import type { FunctionDefinition } from '../../../model/service-definition.js';
import {
  type AttachedTrigger,
  isSupportedTrigger,
  type PoolTriggers,
} from '../../../services/cognito/triggers.js';
import type { StageReaction } from '../../reconcile/stage-reconciler.js';

export function attachedTriggersOf(functions: Iterable<FunctionDefinition>): AttachedTrigger[] {
  const out: AttachedTrigger[] = [];
  for (const fn of functions) {
    for (const event of fn.events) {
      if (event.kind !== 'cognitoUserPool' || !('config' in event)) continue;
      const { pool, trigger, existing } = event.config;
      if (existing !== true || typeof pool !== 'string' || typeof trigger !== 'string') continue;
      if (!isSupportedTrigger(trigger)) continue;
      out.push({ pool, trigger, functionName: fn.name });
    }
  }
  return out;
}

export function cognitoTriggersReaction(triggers: Pick<PoolTriggers, 'setStage'>): StageReaction {
  return {
    name: 'user pool triggers',
    react: async (state) => {
      triggers.setStage(`${state.service}/${state.stage}`, attachedTriggersOf(state.functions));
    },
  };
}
