/**
 * A serverless.yml `alb` event as a listener rule, with the problems the Serverless Framework's
 * schema or Elastic Load Balancing would refuse it for. Checked at load by the CLI and at deploy
 * by the platform (definition-rules.ts), then compiled into the ALB table (alb-table.ts).
 *
 * Shape (Serverless Framework v3): `listenerArn`, `priority`, `conditions: {path, host, method,
 * header: {name, values}, query: {key: value}, ip: [cidr]}`, `multiValueHeaders`, `healthCheck`,
 * `targetGroupName`, `authorizer`.
 */
import { isIP } from 'node:net';

export interface AlbConditions {
  /** Path patterns (`*`, `?` wildcards), case-sensitive; any one matches. */
  path?: string[];
  /** Host names (`*`, `?` wildcards), case-insensitive; any one matches. */
  host?: string[];
  /** Methods, exact; any one matches. */
  method?: string[];
  /** One header: name case-insensitive, any of the values (wildcards, case-insensitive). */
  header?: { name: string; values: string[] };
  /** Key/value pairs (wildcards, case-insensitive); any one pair matches. */
  query?: [key: string, value: string][];
  /** Source CIDRs; any one matches. */
  ip?: string[];
}

export interface AlbRuleConfig {
  /** The listener's address key on Nimbus (docs/alb.md): its id, or the `Ref`'d logical id. */
  listener: string;
  /** The load balancer's name when the ARN says it: a second address for the listener. */
  loadBalancer?: string;
  /** Region of the listener ARN, when it has one. */
  region?: string;
  priority: number;
  conditions: AlbConditions;
  multiValueHeaders: boolean;
  targetGroupName?: string;
}

export interface AlbProblem {
  field: string;
  message: string;
}

export type AlbRuleResult =
  | { ok: true; rule: AlbRuleConfig }
  | { ok: false; problems: AlbProblem[] };

/** ELB's bounds: rule priorities 1-50000, 128 characters per condition value. */
export const MAX_PRIORITY = 50_000;
const MAX_VALUE_LENGTH = 128;
const LISTENER_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:listener\/app\/([A-Za-z0-9-]{1,32})\/[0-9a-f]+\/([0-9a-f]+)$/;
const CONDITION_KEYS = new Set(['path', 'host', 'method', 'header', 'query', 'ip']);
const METHOD = /^[A-Z_-]{1,40}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `192.168.0.0/16`, `::1/128`, or a bare address (a /32 or /128). */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 6 ? 128 : 32;
  const bits = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { address, prefix: Number(bits), family: family === 6 ? 'ipv6' : 'ipv4' };
}

/** The listener's key and names from `listenerArn`: an ARN, `{Ref: X}` or `{Fn::ImportValue: X}`. */
function listenerOf(
  value: unknown,
): Pick<AlbRuleConfig, 'listener' | 'loadBalancer' | 'region'> | string {
  if (typeof value === 'string') {
    const arn = LISTENER_ARN.exec(value);
    if (!arn) {
      return `${value} is not an ALB listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>)`;
    }
    return { listener: arn[3]!, loadBalancer: arn[2]!.toLowerCase(), region: arn[1]! };
  }
  if (isPlainObject(value) && Object.keys(value).length === 1) {
    const ref = value.Ref ?? value['Fn::ImportValue'];
    if (typeof ref === 'string' && /^[A-Za-z0-9-]{1,128}$/.test(ref)) {
      return { listener: ref.toLowerCase() };
    }
  }
  return 'must be an ALB listener ARN, {Ref: <Listener>} or {Fn::ImportValue: <name>}';
}

/** A string or a list of strings (the Framework takes both for path, host, method). */
function stringList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    return value as string[];
  }
  return undefined;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function conditionsOf(value: unknown, problems: AlbProblem[]): AlbConditions {
  const out: AlbConditions = {};
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    problems.push({
      field: 'conditions',
      message: 'is required: at least one of path, host, method, header, query, ip',
    });
    return out;
  }
  const problem = (key: string, message: string) =>
    problems.push({ field: `conditions.${key}`, message });
  for (const key of Object.keys(value)) {
    if (!CONDITION_KEYS.has(key)) {
      problem(key, 'is not an ALB condition (path, host, method, header, query, ip)');
    }
  }
  const lists: ['path' | 'host' | 'method' | 'ip', string][] = [
    ['path', 'a path pattern or a list of them'],
    ['host', 'a host name or a list of them'],
    ['method', 'a method or a list of them'],
    ['ip', 'a CIDR or a list of them'],
  ];
  for (const [key, words] of lists) {
    if (value[key] === undefined || value[key] === null) continue;
    const list = stringList(value[key]);
    if (!list) {
      problem(key, `must be ${words}`);
      continue;
    }
    const tooLong = list.find((v) => v.length > MAX_VALUE_LENGTH);
    if (tooLong !== undefined) {
      problem(key, `"${tooLong.slice(0, 20)}..." is over ${MAX_VALUE_LENGTH} characters`);
      continue;
    }
    if (key === 'path') {
      const bad = list.find((p) => !p.startsWith('/') && !p.startsWith('*'));
      if (bad !== undefined) {
        problem(key, `"${bad}" must start with "/" (or a wildcard)`);
        continue;
      }
    }
    if (key === 'method') {
      const bad = list.find((m) => !METHOD.test(m));
      if (bad !== undefined) {
        problem(key, `"${bad}" is not a method (upper-case letters, _ and -)`);
        continue;
      }
    }
    if (key === 'ip') {
      const bad = list.find((c) => parseCidr(c) === undefined);
      if (bad !== undefined) {
        problem(key, `"${bad}" is not a CIDR (192.168.0.0/16, 2001:db8::/32)`);
        continue;
      }
    }
    out[key] = list;
  }
  if (value.header !== undefined && value.header !== null) {
    const header = value.header;
    const values = isPlainObject(header) ? stringList(header.values) : undefined;
    if (
      !isPlainObject(header) ||
      typeof header.name !== 'string' ||
      !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/.test(header.name) ||
      values === undefined
    ) {
      problem('header', 'must be {name: <header name>, values: [<value>, ...]}');
    } else {
      out.header = { name: header.name, values };
    }
  }
  if (value.query !== undefined && value.query !== null) {
    const query = value.query;
    const pairs: [string, string][] = [];
    if (isPlainObject(query) && Object.keys(query).length > 0) {
      for (const [k, v] of Object.entries(query)) {
        const text = scalar(v);
        if (text === undefined) {
          problem(`query.${k}`, 'must be a string');
          continue;
        }
        pairs.push([k, text]);
      }
      out.query = pairs;
    } else {
      problem('query', 'must be a map of query keys to values');
    }
  }
  return out;
}

/** Reads one `alb` event's config; every problem found, not only the first. */
export function albRuleOf(config: Record<string, unknown>): AlbRuleResult {
  const problems: AlbProblem[] = [];
  const listener = listenerOf(config.listenerArn);
  if (typeof listener === 'string') problems.push({ field: 'listenerArn', message: listener });
  const p = config.priority;
  const priority = typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : p;
  if (
    typeof priority !== 'number' ||
    !Number.isInteger(priority) ||
    priority < 1 ||
    priority > MAX_PRIORITY
  ) {
    problems.push({ field: 'priority', message: `must be an integer from 1 to ${MAX_PRIORITY}` });
  }
  const conditions = conditionsOf(config.conditions, problems);
  const multi = config.multiValueHeaders;
  if (multi !== undefined && multi !== null && typeof multi !== 'boolean') {
    problems.push({ field: 'multiValueHeaders', message: 'must be true or false' });
  }
  const tg = config.targetGroupName;
  if (tg !== undefined && (typeof tg !== 'string' || !/^[A-Za-z0-9-]{1,32}$/.test(tg))) {
    problems.push({
      field: 'targetGroupName',
      message: 'must be up to 32 letters, digits and hyphens',
    });
  }
  if (problems.length > 0 || typeof listener === 'string') return { ok: false, problems };
  return {
    ok: true,
    rule: {
      ...listener,
      priority: priority as number,
      conditions,
      multiValueHeaders: multi === true,
      ...(typeof tg === 'string' ? { targetGroupName: tg } : {}),
    },
  };
}
