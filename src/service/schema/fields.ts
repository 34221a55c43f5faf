import { z } from 'zod';
import { isIntrinsic } from '../../model/intrinsic.js';

/**
 * Field schemas shared by the service, provider, function and event schemas. Like
 * Serverless's AJV setup (`coerceTypes: 'array'`), numeric and boolean strings are accepted
 * (they often come from `${env:...}`) and a single value is accepted where a list is expected.
 */
function toNumber(value: unknown): unknown {
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) {
    return Number(value);
  }
  return value;
}

function toBoolean(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

export function intIn(min: number, max?: number) {
  const msg =
    max === undefined
      ? `must be an integer of at least ${min}`
      : `must be an integer from ${min} to ${max}`;
  let num = z.number({ error: msg }).int({ error: msg }).min(min, { error: msg });
  if (max !== undefined) num = num.max(max, { error: msg });
  return z.preprocess(toNumber, num);
}

export const bool = z.preprocess(toBoolean, z.boolean({ error: 'must be true or false' }));

export const text = z.string({ error: 'must be a string' });

export const stringList = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z.array(text, { error: 'must be a string or a list of strings' }),
);

const scalar = z.custom<string | number | boolean>(
  (v) => ['string', 'number', 'boolean'].includes(typeof v),
  { error: 'must be a string, number or boolean' },
);

/** Environment variables and tags: scalar values, stored as strings. */
export const stringMap = z
  .record(z.string(), scalar, { error: 'must be a map of names to values' })
  .transform((map) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)])));

export const looseRecord = z.record(z.string(), z.unknown(), { error: 'must be a map' });

const intrinsicOrScalar = z.custom<string | number | boolean | Record<string, unknown>>(
  (v) => ['string', 'number', 'boolean'].includes(typeof v) || isIntrinsic(v),
  {
    error:
      'must be a string, number, boolean or a CloudFormation intrinsic (Ref, Fn::GetAtt, Fn::Sub, ...)',
  },
);

/**
 * Environment variables: scalars (stored as strings) or intrinsics such as `!Ref Queue`,
 * kept as written for the platform to resolve at deploy (docs/resources.md).
 */
export const environmentMap = z
  .record(z.string(), intrinsicOrScalar, { error: 'must be a map of names to values' })
  .transform((map) =>
    Object.fromEntries(Object.entries(map).map(([k, v]) => [k, isIntrinsic(v) ? v : String(v)])),
  );

/** The retention periods CloudWatch Logs takes (and the Framework's schema lists), in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

export const logRetentionDays = z.preprocess(
  toNumber,
  z
    .number({ error: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (days)` })
    .refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
      error: `must be one of ${LOG_RETENTION_DAYS.join(', ')} (days)`,
    }),
);
