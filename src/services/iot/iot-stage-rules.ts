/** A stage's enabled `iot` events as rules for the IotRuleEngine (docs/iot.md). */
import type { FunctionDefinition } from '../../model/service-definition.js';
import { iotRuleOf } from './iot-rule-config.js';
import type { IotRule } from './iot-rule-engine.js';

export function iotRulesOfStage(
  state: { stage: string; functions: readonly FunctionDefinition[] },
  onProblem: (fn: string, message: string) => void,
): IotRule[] {
  const rules: IotRule[] = [];
  for (const fn of state.functions) {
    for (const [index, event] of fn.events.entries()) {
      if (event.kind !== 'iot') continue;
      try {
        const rule = iotRuleOf((event as { config: Record<string, unknown> }).config);
        if (!rule.enabled) continue;
        rules.push({
          functionName: fn.name,
          qualifier: state.stage,
          statement: rule.statement,
          label: fn.key,
        });
      } catch (error) {
        onProblem(fn.key, `events[${index}].iot: ${(error as Error).message}`);
      }
    }
  }
  return rules;
}
