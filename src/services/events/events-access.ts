/**
 * Which bus, rule and target each EventBridge operation names, for the shared ownership check
 * (platform/auth/resource-access.ts, docs/security.md): a function's session credentials reach
 * their own stage's buses and rules and shared ones (the default bus is shared; a rule on it
 * belongs to the stage that made it). PutTargets also needs each target queue, function or bus
 * to be the caller's to reach.
 */
import type { AccessRule, ResourceRef } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import { defaultBus } from './events-store.js';

export const busKind = 'AWS::Events::EventBus';
export const ruleKind = 'AWS::Events::Rule';
type Input = Record<string, unknown>;

/** AccessDeniedException, as EventBridge refuses a principal its policy does not allow. */
export function eventsAccessDenied(): AwsError {
  return new AwsError(
    400,
    'AccessDeniedException',
    'User is not authorized to perform this action on this resource: it belongs to another service stage',
  );
}

/** A bus name or event-bus ARN (absent: the default bus). */
function busName(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') return defaultBus;
  const at = raw.startsWith('arn:') ? raw.indexOf(':event-bus/') : -1;
  return at < 0 ? raw : raw.slice(at + ':event-bus/'.length);
}

/** A rule's owner record is named as its deploy names it: `<name>`, or `<bus>|<name>`. */
export function ruleId(bus: string, name: string): string {
  return bus === defaultBus ? name : `${bus}|${name}`;
}

export function ruleOfId(id: string): { bus: string; name: string } {
  const bar = id.indexOf('|');
  return bar < 0
    ? { bus: defaultBus, name: id }
    : { bus: id.slice(0, bar), name: id.slice(bar + 1) };
}

const bus = (name: string): ResourceRef => ({ kind: busKind, name });
const byBus = (input: Input) => [bus(busName(input.EventBusName))];
const byBusName = (input: Input) => [bus(busName(input.Name))];
const byRule = (input: Input): ResourceRef[] => {
  const b = busName(input.EventBusName);
  const name = 'Rule' in input ? input.Rule : input.Name;
  return typeof name === 'string' ? [{ kind: ruleKind, name: ruleId(b, name) }, bus(b)] : [bus(b)];
};
/** Where a target delivers: a queue, a function or a bus of this platform. */
function targetRef(arn: unknown): ResourceRef[] {
  if (typeof arn !== 'string') return [];
  const parts = arn.split(':');
  if (parts[2] === 'sqs' && parts[5]) return [{ kind: 'AWS::SQS::Queue', name: parts[5] }];
  if (parts[2] === 'lambda' && parts[5] === 'function' && parts[6]) {
    return [{ kind: 'AWS::Lambda::Function', name: parts[6] }];
  }
  if (parts[2] === 'events') return [bus(busName(arn))];
  return [];
}
const byTargets = (input: Input): ResourceRef[] => [
  ...byRule(input),
  ...(Array.isArray(input.Targets)
    ? input.Targets.flatMap((t: unknown) =>
        t && typeof t === 'object' ? targetRef((t as Input).Arn) : [],
      )
    : []),
];
const byEntries = (input: Input): ResourceRef[] =>
  Array.isArray(input.Entries)
    ? input.Entries.map((e: unknown) =>
        bus(busName(e && typeof e === 'object' ? (e as Input).EventBusName : undefined)),
      )
    : [];

export function eventsAccessRules(deps: {
  busExists: (name: string) => Promise<boolean>;
  ruleExists: (id: string) => Promise<boolean>;
}): Record<string, AccessRule<Input, object>> {
  return {
    CreateEventBus: { write: true, refs: byBusName, creates: { exists: deps.busExists } },
    DeleteEventBus: { write: true, refs: byBusName, deletes: true },
    DescribeEventBus: { write: false, refs: byBusName },
    ListEventBuses: {
      write: false,
      filter: {
        kind: busKind,
        keep: (output, reaches) => {
          const out = output as { EventBuses?: { Name: string }[] };
          return { ...out, EventBuses: (out.EventBuses ?? []).filter((b) => reaches(b.Name)) };
        },
      },
    },
    PutRule: { write: true, refs: byRule, creates: { exists: deps.ruleExists } },
    DescribeRule: { write: false, refs: byRule },
    ListRules: {
      write: false,
      refs: byBus,
      filter: {
        kind: ruleKind,
        keep: (output, reaches) => {
          const out = output as { Rules?: { Name: string; EventBusName: string }[] };
          return {
            ...out,
            Rules: (out.Rules ?? []).filter((r) => reaches(ruleId(r.EventBusName, r.Name))),
          };
        },
      },
    },
    EnableRule: { write: true, refs: byRule },
    DisableRule: { write: true, refs: byRule },
    DeleteRule: { write: true, refs: byRule, deletes: true },
    PutTargets: { write: true, refs: byTargets },
    RemoveTargets: { write: true, refs: byRule },
    ListTargetsByRule: { write: false, refs: byRule },
    PutEvents: { write: true, refs: byEntries },
  };
}
