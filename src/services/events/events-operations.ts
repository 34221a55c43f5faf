/**
 * The EventBridge operations by name (docs/eventbridge.md): buses, rules, targets, PutEvents and
 * TestEventPattern, over the EventsStore and the shared event pattern matcher.
 */
import { randomUUID } from 'node:crypto';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import { matches } from '../../platform/aws/patterns/event-pattern.js';
import type { AwsJsonOperation } from '../../platform/aws/protocols/aws-json.js';
import { type BusDeliveryDeps, deliverEvent } from './bus-delivery.js';
import { busArn, busNameOf, ruleArn } from './events-arns.js';
import { eventsErrors } from './events-errors.js';
import {
  checkName,
  type Input,
  optionalList,
  optionalString,
  requiredString,
} from './events-input.js';
import { defaultBus, type EventsStore, type RuleSettings } from './events-store.js';
import { checkPattern, checkSchedule, checkTarget, checkTargetBuses } from './rule-checks.js';

export interface EventsDeps extends BusDeliveryDeps {
  store: EventsStore;
  clock: Clock;
  /** A rule was put, deleted, enabled or disabled (scheduled rules are re-read). */
  onRulesChanged?: () => void;
}

/** PutEvents: at most 10 entries, 256 KiB in all. */
const maxEntries = 10;
const maxEventsBytes = 256 * 1024;
const maxTargetsPerRule = 5;

export function eventsOperations(deps: EventsDeps): Record<string, AwsJsonOperation> {
  const { store, region } = deps;
  const busOf = async (input: Input): Promise<string> => {
    const name = busNameOf(optionalString(input, 'EventBusName'));
    if (!(await store.findBus(name))) throw eventsErrors.busNotFound(name);
    return name;
  };
  const ruleOf = async (input: Input) => {
    const bus = await busOf(input);
    const name = requiredString(input, 'Rule' in input ? 'Rule' : 'Name');
    const rule = await store.findRule(bus, name);
    if (!rule) throw eventsErrors.ruleNotFound(name, bus);
    return rule;
  };
  const describeRule = (rule: { bus: string; name: string; settings: RuleSettings }) => ({
    Name: rule.name,
    Arn: ruleArn(region, rule.bus, rule.name),
    EventBusName: rule.bus,
    State: rule.settings.State,
    ...(rule.settings.EventPattern ? { EventPattern: rule.settings.EventPattern } : {}),
    ...(rule.settings.ScheduleExpression
      ? { ScheduleExpression: rule.settings.ScheduleExpression }
      : {}),
    ...(rule.settings.Description ? { Description: rule.settings.Description } : {}),
  });
  const setState = async (input: Input, State: 'ENABLED' | 'DISABLED') => {
    const rule = await ruleOf(input);
    await store.putRule({ ...rule, settings: { ...rule.settings, State } });
    deps.onRulesChanged?.();
    return {};
  };

  return {
    CreateEventBus: async (input) => {
      const name = requiredString(input, 'Name');
      checkName('name', name);
      if (name.startsWith('aws.'))
        throw eventsErrors.validation('Event bus name must not start with aws.');
      if (optionalString(input, 'EventSourceName') !== undefined) {
        throw eventsErrors.validation('Partner event sources are not supported by Nimbus.');
      }
      const description = optionalString(input, 'Description');
      const created = await store.createBus({
        name,
        ...(description ? { description } : {}),
        createdAt: deps.clock.now(),
      });
      if (!created) throw eventsErrors.busExists(busArn(region, name));
      return { EventBusArn: busArn(region, name) };
    },
    DeleteEventBus: async (input) => {
      const name = busNameOf(requiredString(input, 'Name'));
      if (name === defaultBus) throw eventsErrors.defaultBus('delete');
      if ((await store.listRules(name)).length > 0) throw eventsErrors.busInUse(name);
      await store.deleteBus(name); // deleting a missing bus succeeds, as on AWS
      return {};
    },
    DescribeEventBus: async (input) => {
      const name = busNameOf(optionalString(input, 'Name'));
      const bus = await store.findBus(name);
      if (!bus) throw eventsErrors.busNotFound(name);
      return {
        Name: bus.name,
        Arn: busArn(region, bus.name),
        ...(bus.description ? { Description: bus.description } : {}),
        ...(bus.createdAt ? { CreationTime: bus.createdAt / 1000 } : {}),
      };
    },
    ListEventBuses: async (input) => {
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      const buses = (await store.listBuses()).filter((b) => b.name.startsWith(prefix));
      return {
        EventBuses: buses.map((b) => ({
          Name: b.name,
          Arn: busArn(region, b.name),
          ...(b.description ? { Description: b.description } : {}),
        })),
      };
    },
    PutRule: async (input) => {
      const bus = await busOf(input);
      const name = requiredString(input, 'Name');
      checkName('name', name);
      const pattern = optionalString(input, 'EventPattern');
      const schedule = optionalString(input, 'ScheduleExpression');
      if (pattern === undefined && schedule === undefined) {
        throw eventsErrors.validation(
          'Parameter(s) EventPattern or ScheduleExpression must be specified.',
        );
      }
      if (pattern !== undefined) checkPattern(pattern);
      if (schedule !== undefined) {
        if (bus !== defaultBus) {
          throw eventsErrors.validation(
            'ScheduleExpression is supported only on the default event bus.',
          );
        }
        checkSchedule(schedule);
      }
      const state = optionalString(input, 'State') ?? 'ENABLED';
      if (state !== 'ENABLED' && state !== 'DISABLED') {
        throw eventsErrors.validation(`State must be ENABLED or DISABLED, not ${state}.`);
      }
      const description = optionalString(input, 'Description');
      const existing = await store.findRule(bus, name);
      await store.putRule({
        bus,
        name,
        settings: {
          State: state,
          ...(pattern !== undefined ? { EventPattern: pattern } : {}),
          ...(schedule !== undefined ? { ScheduleExpression: schedule } : {}),
          ...(description !== undefined ? { Description: description } : {}),
        },
        ...(existing?.owner ? { owner: existing.owner } : {}),
        createdAt: existing?.createdAt ?? deps.clock.now(),
      });
      deps.onRulesChanged?.();
      return { RuleArn: ruleArn(region, bus, name) };
    },
    DescribeRule: async (input) => describeRule(await ruleOf(input)),
    ListRules: async (input) => {
      const bus = await busOf(input);
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      const rules = (await store.listRules(bus)).filter((r) => r.name.startsWith(prefix));
      return { Rules: rules.map(describeRule) };
    },
    EnableRule: (input) => setState(input, 'ENABLED'),
    DisableRule: (input) => setState(input, 'DISABLED'),
    DeleteRule: async (input) => {
      const bus = await busOf(input);
      const name = requiredString(input, 'Name');
      const rule = await store.findRule(bus, name);
      if (!rule) return {}; // as on AWS: deleting a missing rule succeeds
      if (input.Force !== true && (await store.targets(bus, name)).length > 0) {
        throw eventsErrors.ruleHasTargets();
      }
      await store.deleteRule(bus, name);
      deps.onRulesChanged?.();
      return {};
    },
    PutTargets: async (input) => {
      const rule = await ruleOf(input);
      const targets = optionalList(input, 'Targets').map(checkTarget);
      if (targets.length === 0) throw eventsErrors.validation('Targets must not be empty.');
      const existing = await store.targets(rule.bus, rule.name);
      const ids = new Set([...existing.map((t) => t.Id), ...targets.map((t) => t.Id)]);
      if (ids.size > maxTargetsPerRule) throw eventsErrors.tooManyTargets();
      await checkTargetBuses(store, targets);
      await store.putTargets(rule.bus, rule.name, targets);
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    RemoveTargets: async (input) => {
      const rule = await ruleOf(input);
      const ids = optionalList(input, 'Ids').map(String);
      if (ids.length === 0) throw eventsErrors.validation('Ids must not be empty.');
      await store.removeTargets(rule.bus, rule.name, ids);
      return { FailedEntryCount: 0, FailedEntries: [] };
    },
    ListTargetsByRule: async (input) => {
      const rule = await ruleOf(input);
      return { Targets: await store.targets(rule.bus, rule.name) };
    },
    PutEvents: async (input) => {
      const entries = optionalList(input, 'Entries');
      if (entries.length === 0 || entries.length > maxEntries) {
        throw eventsErrors.validation(
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${maxEntries}`,
        );
      }
      const size = entries.reduce<number>((sum, e) => sum + entrySize(e as Input), 0);
      if (size > maxEventsBytes) {
        throw eventsErrors.validation(
          'Total size of the entries in the request is over the limit.',
        );
      }
      const results: object[] = [];
      let failed = 0;
      for (const raw of entries) {
        const result = await putEntry(deps, raw as Input);
        if ('ErrorCode' in result) failed++;
        results.push(result);
      }
      return { FailedEntryCount: failed, Entries: results };
    },
    TestEventPattern: async (input) => {
      const pattern = checkPattern(requiredString(input, 'EventPattern'));
      let event: unknown;
      try {
        event = JSON.parse(requiredString(input, 'Event'));
      } catch {
        throw eventsErrors.validation('Parameter Event is not valid JSON.');
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw eventsErrors.validation('Parameter Event must be a JSON object.');
      }
      for (const field of ['id', 'account', 'source', 'time', 'region', 'detail-type']) {
        if (!(field in event)) {
          throw eventsErrors.validation(`Parameter Event is not valid: ${field} is missing.`);
        }
      }
      return { Result: matches(pattern, event) };
    },
  };
}

/** EventBridge's entry size: Source, DetailType, Detail, Resources and 14 bytes for a Time. */
function entrySize(entry: Input): number {
  let size = entry.Time !== undefined ? 14 : 0;
  for (const key of ['Source', 'DetailType', 'Detail']) {
    const v = entry[key];
    if (typeof v === 'string') size += Buffer.byteLength(v);
  }
  for (const r of Array.isArray(entry.Resources) ? entry.Resources : []) {
    if (typeof r === 'string') size += Buffer.byteLength(r);
  }
  return size;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** One entry of PutEvents: checked, made into the envelope, delivered. Never throws for its input. */
async function putEntry(deps: EventsDeps, entry: Input): Promise<EntryResult> {
  const fail = (ErrorCode: string, ErrorMessage: string) => ({ ErrorCode, ErrorMessage });
  for (const field of ['Source', 'DetailType', 'Detail']) {
    if (typeof entry[field] !== 'string' || entry[field] === '') {
      return fail(
        'InvalidArgument',
        `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      );
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    return fail('MalformedDetail', 'Detail is malformed.');
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return fail('MalformedDetail', 'Detail is malformed.');
  }
  let bus: string;
  try {
    bus = busNameOf(typeof entry.EventBusName === 'string' ? entry.EventBusName : undefined);
  } catch (error) {
    return fail('InvalidArgument', (error as Error).message);
  }
  if (!(await deps.store.findBus(bus))) {
    return fail('NotAuthorizedForSourceException', `Event bus ${bus} does not exist.`);
  }
  const now = deps.clock.now();
  let time = new Date(now);
  if (entry.Time !== undefined) {
    const given =
      typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(String(entry.Time));
    if (!Number.isNaN(given.getTime())) time = given;
  }
  const resources = Array.isArray(entry.Resources)
    ? entry.Resources.filter((r) => typeof r === 'string')
    : [];
  const id = randomUUID();
  const event = {
    version: '0',
    id,
    'detail-type': entry.DetailType as string,
    source: entry.Source as string,
    account: NIMBUS_ACCOUNT_ID,
    time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: deps.region,
    resources,
    detail,
  };
  await deliverEvent(deps, bus, event, new Date(now).toISOString());
  return { EventId: id };
}

/**
 * A rule's event bus target (bus-delivery.ts): the event goes on the bus `busArnText` as a new
 * event, as EventBridge forwards it: a new id and ingestion time, its detail-type, source,
 * detail, resources and time kept; the bus's rules match it there. `hops` counts the bus
 * targets it has crossed, this one included. A bus that is gone is a permanent failure.
 */
export async function forwardToBus(
  deps: EventsDeps,
  busArnText: string,
  eventText: string,
  hops: number,
): Promise<void> {
  const bus = busNameOf(busArnText);
  if (!(await deps.store.findBus(bus))) throw eventsErrors.busNotFound(busArnText);
  const event: unknown = JSON.parse(eventText);
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw eventsErrors.validation('An event bus target takes an event, not other input.');
  }
  const forwarded = { ...event, id: randomUUID(), account: NIMBUS_ACCOUNT_ID, region: deps.region };
  await deliverEvent(deps, bus, forwarded, new Date(deps.clock.now()).toISOString(), hops);
}

/** Puts an event on a bus for another part of the platform (async destinations). */
export async function putPlatformEvent(
  deps: EventsDeps,
  busArnText: string,
  entry: { Source: string; DetailType: string; Detail: string; Resources?: string[] },
): Promise<void> {
  const result = await putEntry(deps, { ...entry, EventBusName: busArnText });
  if ('ErrorCode' in result) throw new Error(`${result.ErrorCode}: ${result.ErrorMessage}`);
}
