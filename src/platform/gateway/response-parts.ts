import type { FunctionErrorBody, InvokeOutcome } from '../../model/invocation.js';

/**
 * Small checks shared by the two response mappers. Each returns the value or a reason
 * string (for the log line), so the mappers read as a list of field rules.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkStatusCode(value: unknown): Checked<number> {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599) {
    return { ok: true, value };
  }
  return {
    ok: false,
    reason: `statusCode must be an integer 100-599, got ${JSON.stringify(value)}`,
  };
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `{name: value}` with string/number/boolean values → pairs; absent or null → none. */
export function checkHeaders(value: unknown, field: string): Checked<[string, string][]> {
  if (value === undefined || value === null) return { ok: true, value: [] };
  if (!isPlainObject(value)) return { ok: false, reason: `${field} must be an object` };
  const pairs: [string, string][] = [];
  for (const name in value) {
    const text = scalar(value[name]);
    if (text === undefined) return { ok: false, reason: `${field}.${name} must be a string` };
    pairs.push([name, text]);
  }
  return { ok: true, value: pairs };
}

/** `{name: [values]}` → pairs, one per value. */
export function checkMultiValueHeaders(value: unknown): Checked<[string, string][]> {
  if (value === undefined || value === null) return { ok: true, value: [] };
  if (!isPlainObject(value)) return { ok: false, reason: 'multiValueHeaders must be an object' };
  const pairs: [string, string][] = [];
  for (const name in value) {
    const list = value[name];
    if (!Array.isArray(list)) {
      return { ok: false, reason: `multiValueHeaders.${name} must be an array` };
    }
    for (const item of list) {
      const text = scalar(item);
      if (text === undefined) {
        return { ok: false, reason: `multiValueHeaders.${name} must hold strings` };
      }
      pairs.push([name, text]);
    }
  }
  return { ok: true, value: pairs };
}

/** `body` (string, or absent/null for none) with `isBase64Encoded` → bytes. */
export function checkBody(body: unknown, isBase64Encoded: unknown): Checked<Buffer> {
  if (
    isBase64Encoded !== undefined &&
    isBase64Encoded !== null &&
    typeof isBase64Encoded !== 'boolean'
  ) {
    return { ok: false, reason: 'isBase64Encoded must be a boolean' };
  }
  if (body === undefined || body === null) return { ok: true, value: Buffer.alloc(0) };
  if (typeof body !== 'string') {
    return {
      ok: false,
      reason: `body must be a string, got ${Array.isArray(body) ? 'array' : typeof body}`,
    };
  }
  return { ok: true, value: Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8') };
}

export function hasHeader(headers: [string, string][], lowerName: string): boolean {
  return headers.some(([name]) => name.toLowerCase() === lowerName);
}

/** The log reason for a function error, Lambda's `errorType: errorMessage`. */
export function functionErrorReason(error: FunctionErrorBody): string {
  return `${error.errorType}: ${error.errorMessage}`;
}

/** A function outcome's JSON result, or why there is none: a function error, or text not JSON. */
export type FunctionResult =
  | { ok: true; value: unknown /** The JSON text as the function returned it. */; text: string }
  | { ok: false; functionError: boolean; reason: string };

/** The opening every response mapping (REST, HTTP API, ALB) shares. */
export function functionResult(outcome: InvokeOutcome): FunctionResult {
  if (outcome.status === 'error') {
    return { ok: false, functionError: true, reason: functionErrorReason(outcome.error) };
  }
  try {
    return { ok: true, value: JSON.parse(outcome.payload), text: outcome.payload };
  } catch {
    return { ok: false, functionError: false, reason: 'the result is not JSON' };
  }
}

/** Why a result that had to be an object is not one. */
export function notAnObjectReason(result: unknown): string {
  const kind = result === null ? 'null' : Array.isArray(result) ? 'array' : typeof result;
  return `the result must be an object, got ${kind}`;
}
