import { createHash } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../../model/account.js';
import type { ServiceDefinition } from '../../../model/service-definition.js';
import type { StoreReader } from '../../../store/store.js';
import { type AlbMatcher, compileConditions } from './alb-conditions.js';
import { type AlbRuleConfig, albRuleOf } from './alb-rule-config.js';

/** One listener rule with its target: a function of one deployed service stage. */
export interface AlbRule {
  priority: number;
  matches: AlbMatcher;
  service: string;
  stage: string;
  functionKey: string;
  functionName: string;
  multiValueHeaders: boolean;
  targetGroupArn: string;
}

export interface AlbListener {
  /** The address key (`/_alb/<key>/`, `<key>.alb.localhost`). */
  key: string;
  /** Lowest priority first: the order ELB evaluates rules in. */
  rules: AlbRule[];
}

export interface AlbTable {
  /** By address key, and by load balancer name where that names one listener only. */
  readonly listeners: ReadonlyMap<string, AlbListener>;
  /** Rules not served (a priority another service holds on the listener), one sentence each. */
  readonly warnings: readonly string[];
}

interface RuleSource {
  definition: ServiceDefinition;
  functionKey: string;
  functionName: string;
  config: AlbRuleConfig;
}

/** `arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<16 hex>`, stable. */
function targetGroupArnOf(source: RuleSource): string {
  const { config, definition } = source;
  const name = (config.targetGroupName ?? `${source.functionName}`).slice(0, 32).replace(/-+$/, '');
  const id = createHash('sha256')
    .update(`${config.listener}:${config.priority}:${source.functionName}`)
    .digest('hex')
    .slice(0, 16);
  const region = config.region ?? definition.region;
  return `arn:aws:elasticloadbalancing:${region}:${NIMBUS_ACCOUNT_ID}:targetgroup/${name}/${id}`;
}

/** The `alb` events of one deployed service stage, read with the rules the load checked. */
function sourcesOf(definition: ServiceDefinition): RuleSource[] {
  const out: RuleSource[] = [];
  for (const fn of Object.values(definition.functions)) {
    for (const event of fn.events) {
      if (event.kind !== 'alb' || !('config' in event)) continue;
      const read = albRuleOf(event.config);
      // Deploy refused bad rules already; a stored one that no longer reads is skipped.
      if (!read.ok) continue;
      out.push({ definition, functionKey: fn.key, functionName: fn.name, config: read.rule });
    }
  }
  return out;
}

/**
 * Compiles every deployed stage's `alb` events into listeners. Several services may put rules
 * on one listener, as on AWS; a priority can be held by one rule only, so a second one (from
 * another stage: deploy refuses it within one) is reported and not served.
 */
export function compileAlbTable(definitions: ServiceDefinition[]): AlbTable {
  const warnings: string[] = [];
  const listeners = new Map<string, AlbListener>();
  const loadBalancers = new Map<string, Set<string>>();
  for (const definition of definitions) {
    for (const source of sourcesOf(definition)) {
      const { config } = source;
      let listener = listeners.get(config.listener);
      if (listener === undefined) {
        listener = { key: config.listener, rules: [] };
        listeners.set(config.listener, listener);
      }
      const taken = listener.rules.find((r) => r.priority === config.priority);
      if (taken) {
        warnings.push(
          `${definition.service}/${definition.stage} ${source.functionKey}: priority ${config.priority} on listener ${config.listener} is held by ${taken.service}/${taken.stage} ${taken.functionKey}; the rule is not served`,
        );
        continue;
      }
      listener.rules.push({
        priority: config.priority,
        matches: compileConditions(config.conditions),
        service: definition.service,
        stage: definition.stage,
        functionKey: source.functionKey,
        functionName: source.functionName,
        multiValueHeaders: config.multiValueHeaders,
        targetGroupArn: targetGroupArnOf(source),
      });
      if (config.loadBalancer !== undefined) {
        const keys = loadBalancers.get(config.loadBalancer) ?? new Set();
        keys.add(config.listener);
        loadBalancers.set(config.loadBalancer, keys);
      }
    }
  }
  for (const listener of listeners.values()) listener.rules.sort((a, b) => a.priority - b.priority);
  // The load balancer's name is the friendlier address, when it is not ambiguous.
  for (const [name, keys] of loadBalancers) {
    if (keys.size === 1 && !listeners.has(name)) {
      listeners.set(name, listeners.get([...keys][0]!)!);
    }
  }
  return { listeners, warnings };
}

/** The ALB listeners of every stage's current deployment; run at boot and on every change. */
export async function loadAlbTable(store: StoreReader): Promise<AlbTable> {
  const definitions: ServiceDefinition[] = [];
  for (const stage of await store.listStages()) {
    const [current] = await store.listDeployments(stage.id);
    if (current) definitions.push(current.definition);
  }
  return compileAlbTable(definitions);
}

/** The listener addresses a stage's `alb` events are served on (for `deploy` and `info`). */
export function albListenersOf(definition: ServiceDefinition): string[] {
  return [...new Set(sourcesOf(definition).map((s) => s.config.listener))];
}
