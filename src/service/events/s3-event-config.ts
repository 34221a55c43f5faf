/**
 * A function's `s3` event (serverless.yml) as a notification configuration: which bucket, which
 * S3 event names, which key prefix and suffix. Shared by the deploy check (definition-rules.ts)
 * and the reconciler reaction that installs the configurations (docs/s3.md).
 */
import { NimbusError } from '../../errors/nimbus-error.js';
import type { FunctionDefinition } from '../../model/service-definition.js';

export interface S3EventConfig {
  bucket: string;
  /** `s3:ObjectCreated:*`, `s3:ObjectCreated:Put`, `s3:ObjectRemoved:*`, ... */
  event: string;
  prefix?: string;
  suffix?: string;
  /** The bucket is not the service's to create (read by bucket provisioning). */
  existing: boolean;
  forceDeploy: boolean;
}

/** The S3 event types Nimbus emits, as notification configurations name them. */
export const s3EventTypes = [
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
] as const;

/** An `s3` event Nimbus cannot install: refused at deploy (definition-rules.ts). */
export class S3EventConfigError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_CONFIG_INVALID', message);
  }
}

/** Parses one `s3` event's config; throws S3EventConfigError saying what is wrong. */
export function parseS3EventConfig(config: Record<string, unknown>): S3EventConfig {
  const bucket = config.bucket;
  if (typeof bucket !== 'string' || bucket === '') {
    throw new S3EventConfigError('bucket must be a bucket name');
  }
  const event = config.event ?? 's3:ObjectCreated:*';
  if (typeof event !== 'string' || !(s3EventTypes as readonly string[]).includes(event)) {
    throw new S3EventConfigError(
      `event must be one of ${s3EventTypes.join(', ')} (got ${JSON.stringify(event)})`,
    );
  }
  const parsed: S3EventConfig = {
    bucket,
    event,
    existing: config.existing === true,
    forceDeploy: config.forceDeploy === true,
  };
  const rules = config.rules ?? [];
  if (!Array.isArray(rules)) throw new S3EventConfigError('rules must be a list');
  for (const rule of rules) {
    const entries =
      rule !== null && typeof rule === 'object' ? Object.entries(rule as object) : undefined;
    if (entries?.length !== 1) {
      throw new S3EventConfigError('each rule must be {prefix: ...} or {suffix: ...}');
    }
    const [name, value] = entries[0]!;
    if ((name !== 'prefix' && name !== 'suffix') || typeof value !== 'string') {
      throw new S3EventConfigError('each rule must be {prefix: <text>} or {suffix: <text>}');
    }
    if (parsed[name] !== undefined) throw new S3EventConfigError(`more than one ${name} rule`);
    parsed[name] = value;
  }
  return parsed;
}

/** An installed notification configuration: one `s3` event of one function of a stage. */
export interface S3Notification extends S3EventConfig {
  /** `<function name>-s3-<n>`: the record's `s3.configurationId`. */
  id: string;
  functionName: string;
  /** The alias invoked: the stage's. */
  qualifier: string;
}

/** Every `s3` event of the functions, in definition order. */
export function s3NotificationsOf(
  functions: Iterable<FunctionDefinition>,
  qualifier: string,
): S3Notification[] {
  const out: S3Notification[] = [];
  for (const fn of functions) {
    let n = 0;
    for (const event of fn.events) {
      if (event.kind !== 's3') continue;
      n++;
      const config = parseS3EventConfig((event as { config: Record<string, unknown> }).config);
      out.push({ ...config, id: `${fn.name}-s3-${n}`, functionName: fn.name, qualifier });
    }
  }
  return out;
}

/** True when a change of `key` named `eventName` (`ObjectCreated:Put`) is one `n` asks for. */
export function notificationMatches(n: S3Notification, eventName: string, key: string): boolean {
  const pattern = n.event.slice('s3:'.length);
  const wanted = pattern.endsWith(':*')
    ? eventName.startsWith(pattern.slice(0, -1))
    : eventName === pattern;
  if (!wanted) return false;
  if (n.prefix !== undefined && !key.startsWith(n.prefix)) return false;
  return n.suffix === undefined || key.endsWith(n.suffix);
}
