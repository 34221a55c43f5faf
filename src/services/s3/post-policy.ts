/**
 * The policy document of an S3 browser form upload (presigned POST): its expiration and the
 * conditions every form field must meet.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import { AwsError } from '../../platform/aws/aws-error.js';

export interface PostPolicy {
  expiresAt: number;
  conditions: Condition[];
  /** content-length-range, when the policy sets one. */
  lengthRange?: { min: number; max: number };
}

type Condition = { op: 'eq' | 'starts-with'; field: string; value: string; text: string };

/** Fields a policy never needs to name. */
const exempt = new Set(['policy', 'x-amz-signature', 'file']);

export function invalidPolicy(message: string): AwsError {
  return new AwsError(400, 'InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

function denied(message: string): AwsError {
  return new AwsError(403, 'AccessDenied', `Invalid according to Policy: ${message}`);
}

export function parsePolicy(base64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  const expiresAt = typeof expiration === 'string' ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(expiresAt)) throw invalidPolicy("Invalid 'expiration' value.");
  if (!Array.isArray(conditions)) throw invalidPolicy("Missing 'conditions'.");
  const policy: PostPolicy = { expiresAt, conditions: [] };
  for (const raw of conditions) {
    const text = JSON.stringify(raw);
    if (Array.isArray(raw)) {
      const [op, a, b] = raw as unknown[];
      if (typeof op === 'string' && op.toLowerCase() === 'content-length-range') {
        const min = Number(a);
        const max = Number(b);
        if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min) {
          throw invalidPolicy(`Invalid content-length-range condition: ${text}`);
        }
        policy.lengthRange = { min, max };
        continue;
      }
      const kind = typeof op === 'string' ? op.toLowerCase() : '';
      if (
        (kind !== 'eq' && kind !== 'starts-with') ||
        typeof a !== 'string' ||
        !a.startsWith('$') ||
        typeof b !== 'string' ||
        raw.length !== 3
      ) {
        throw invalidPolicy(`Invalid condition: ${text}`);
      }
      policy.conditions.push({ op: kind, field: a.slice(1).toLowerCase(), value: b, text });
    } else if (typeof raw === 'object' && raw !== null) {
      const entries = Object.entries(raw);
      if (entries.length !== 1 || typeof entries[0]![1] !== 'string') {
        throw invalidPolicy(`Invalid simple condition: ${text}`);
      }
      const [field, value] = entries[0] as [string, string];
      policy.conditions.push({ op: 'eq', field: field.toLowerCase(), value, text });
    } else {
      throw invalidPolicy(`Invalid condition: ${text}`);
    }
  }
  return policy;
}

/**
 * Throws AccessDenied unless the policy is current and every condition holds, and every form
 * field (but the signature, the policy, the file and `x-ignore-*`) is named by a condition.
 * `bucket` is the bucket of the request, whether or not the form repeats it.
 */
export function checkPolicy(
  policy: PostPolicy,
  fields: ReadonlyMap<string, string>,
  bucket: string,
  nowMs: number,
): void {
  if (policy.expiresAt <= nowMs) throw denied('Policy expired.');
  const named = new Set<string>();
  for (const condition of policy.conditions) {
    named.add(condition.field);
    const actual = condition.field === 'bucket' ? bucket : (fields.get(condition.field) ?? '');
    const holds =
      condition.op === 'eq'
        ? actual === condition.value
        : condition.field === 'content-type'
          ? actual.split(',').every((type) => type.trim().startsWith(condition.value))
          : actual.startsWith(condition.value);
    if (!holds) throw denied(`Policy Condition failed: ${condition.text}`);
  }
  for (const name of fields.keys()) {
    if (exempt.has(name) || name.startsWith('x-ignore-') || named.has(name)) continue;
    throw denied(`Extra input fields: ${name}`);
  }
}
