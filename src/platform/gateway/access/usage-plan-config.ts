/**
 * `provider.apiGateway.apiKeys` and `usagePlan` (or their old places under `provider`), read as
 * the Serverless Framework reads them: one plan (a map) or named plans (a list of one-key maps);
 * keys by name, `{name, value, description}`, or grouped under a plan's name. Keys that name no
 * plan belong to the single (or default, unlimited) plan.
 */
import type { ServiceDefinition } from '../../../model/service-definition.js';
import { AccessConfigError } from './route-access.js';

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

export interface UsagePlan {
  name: string;
  /** Requests per second, steady; burstLimit is the bucket's size. */
  throttle?: { rateLimit: number; burstLimit: number };
  /** `offset` moves the period's start by days (WEEK: 0 = Sunday; MONTH: 0 = the 1st). */
  quota?: { limit: number; period: QuotaPeriod; offset: number };
}

export interface ApiKeySpec {
  name: string;
  /** Given in serverless.yml; otherwise generated once and kept across deploys. */
  value?: string;
  description?: string;
  plan: string;
}

export interface StageUsage {
  plans: Map<string, UsagePlan>;
  keys: ApiKeySpec[];
  /** `apiKeySourceType`: the `x-api-key` header, or a Lambda authorizer's usageIdentifierKey. */
  keySource: 'HEADER' | 'AUTHORIZER';
}

export const defaultPlanName = 'default';

/** Undefined when the stage declares no API keys (and so no `private` route can be called). */
export function compileStageUsage(definition: ServiceDefinition): StageUsage | undefined {
  const apiGateway = definition.provider.apiGateway ?? {};
  const provider = definition.provider as unknown as Record<string, unknown>;
  const rawKeys = apiGateway.apiKeys ?? provider.apiKeys;
  const rawPlans = apiGateway.usagePlan ?? provider.usagePlan;
  const keySource = String(apiGateway.apiKeySourceType ?? 'HEADER').toUpperCase();
  if (keySource !== 'HEADER' && keySource !== 'AUTHORIZER') {
    fail('apiKeySourceType must be HEADER or AUTHORIZER');
  }
  const plans = new Map<string, UsagePlan>();
  if (Array.isArray(rawPlans)) {
    rawPlans.forEach((item, i) => {
      const entries = isObject(item) ? Object.entries(item) : [];
      if (entries.length !== 1)
        fail(`usagePlan[${i}] must be a map of one plan name to its settings`);
      const [name, settings] = entries[0]!;
      plans.set(name, plan(name, settings, `usagePlan.${name}`));
    });
  } else if (rawPlans !== undefined && rawPlans !== null) {
    plans.set(defaultPlanName, plan(defaultPlanName, rawPlans, 'usagePlan'));
  }
  if (rawKeys === undefined || rawKeys === null) {
    return plans.size > 0 ? { plans, keys: [], keySource } : undefined;
  }
  if (!Array.isArray(rawKeys)) fail('apiKeys must be a list');
  const keys: ApiKeySpec[] = [];
  const single =
    plans.size === 0 ? defaultPlanName : plans.size === 1 ? [...plans.keys()][0]! : undefined;
  const add = (raw: unknown, planName: string | undefined, where: string) => {
    if (planName === undefined) {
      fail(`${where}: with several usage plans, each key must be listed under its plan's name`);
    }
    const key = keySpec(raw, planName, where);
    if (keys.some((k) => k.name === key.name))
      fail(`${where}: API key "${key.name}" is listed twice`);
    keys.push(key);
  };
  rawKeys.forEach((item, i) => {
    const where = `apiKeys[${i}]`;
    if (isObject(item) && !('name' in item) && Object.keys(item).length === 1) {
      const [planName, list] = Object.entries(item)[0]!;
      if (!plans.has(planName)) fail(`${where}: usage plan "${planName}" is not in usagePlan`);
      if (!Array.isArray(list)) fail(`${where}.${planName} must be a list of keys`);
      list.forEach((k, j) => {
        add(k, planName, `${where}.${planName}[${j}]`);
      });
    } else {
      add(item, single, where);
    }
  });
  if (plans.size === 0) plans.set(defaultPlanName, { name: defaultPlanName });
  return { plans, keys, keySource };
}

function keySpec(raw: unknown, plan: string, where: string): ApiKeySpec {
  if (typeof raw === 'string' && raw !== '') return { name: checkName(raw, where), plan };
  if (!isObject(raw) || typeof raw.name !== 'string')
    fail(`${where} must be a name or {name, value}`);
  const spec: ApiKeySpec = { name: checkName(raw.name, where), plan };
  if (raw.value !== undefined) {
    // API Gateway's own minimum; a shorter key is guessable.
    if (typeof raw.value !== 'string' || raw.value.length < 20 || raw.value.length > 128) {
      fail(`${where}.value must be a string of 20 to 128 characters`);
    }
    spec.value = raw.value;
  }
  if (typeof raw.description === 'string') spec.description = raw.description;
  return spec;
}

function checkName(name: string, where: string): string {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) fail(`${where}: "${name}" is not a valid key name`);
  return name;
}

function plan(name: string, raw: unknown, where: string): UsagePlan {
  if (!isObject(raw)) fail(`${where} must be a map with throttle and/or quota`);
  const out: UsagePlan = { name };
  if (raw.throttle !== undefined) {
    if (!isObject(raw.throttle)) fail(`${where}.throttle must be {rateLimit, burstLimit}`);
    const rateLimit = Number(raw.throttle.rateLimit);
    const burstLimit = Number(raw.throttle.burstLimit ?? Math.ceil(rateLimit));
    if (!(rateLimit > 0) || !Number.isFinite(rateLimit))
      fail(`${where}.throttle.rateLimit must be > 0`);
    if (!Number.isInteger(burstLimit) || burstLimit < 1) {
      fail(`${where}.throttle.burstLimit must be an integer >= 1`);
    }
    out.throttle = { rateLimit, burstLimit };
  }
  if (raw.quota !== undefined) {
    if (!isObject(raw.quota)) fail(`${where}.quota must be {limit, period, offset}`);
    const limit = Number(raw.quota.limit);
    const period = String(raw.quota.period ?? '').toUpperCase();
    const offset = Number(raw.quota.offset ?? 0);
    if (!Number.isInteger(limit) || limit < 1) fail(`${where}.quota.limit must be an integer >= 1`);
    if (period !== 'DAY' && period !== 'WEEK' && period !== 'MONTH') {
      fail(`${where}.quota.period must be DAY, WEEK or MONTH`);
    }
    const maxOffset = period === 'DAY' ? 0 : period === 'WEEK' ? 6 : 27;
    if (!Number.isInteger(offset) || offset < 0 || offset > maxOffset) {
      fail(`${where}.quota.offset must be an integer from 0 to ${maxOffset} for ${period}`);
    }
    out.quota = { limit, period, offset };
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string): never {
  throw new AccessConfigError(message);
}
