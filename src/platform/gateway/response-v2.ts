import type { InvokeOutcome } from '../../model/invocation.js';
import { internalErrorV2, type MappingResult } from './gateway-response.js';
import {
  checkBody,
  checkHeaders,
  checkStatusCode,
  functionResult,
  isPlainObject,
} from './response-parts.js';

function malformed(reason: string): MappingResult {
  return { response: internalErrorV2(), problem: { error: 'Malformed Lambda response', reason } };
}

/**
 * Maps a function outcome to the HTTP API (payload 2.0) response.
 *
 * - An object with `statusCode`: `{statusCode, headers?, cookies?, body?: string,
 *   isBase64Encoded?}`; each cookie becomes a `set-cookie` header. No content-type is added.
 * - Any other JSON (object without statusCode, array, number, string, boolean, null): 200,
 *   `content-type: application/json`. A JSON string is sent as the string itself, as the
 *   HTTP API docs show for `"Hello from Lambda!"`; everything else as the JSON text the
 *   function returned, unchanged (no re-serialization).
 * - A function error or a malformed explicit response: 500 `{"message":"Internal Server Error"}`.
 */
export function mapResponseV2(outcome: InvokeOutcome): MappingResult {
  const parsed = functionResult(outcome);
  if (!parsed.ok) {
    if (!parsed.functionError) return malformed(parsed.reason);
    return {
      response: internalErrorV2(),
      problem: { error: 'Function error', reason: parsed.reason },
    };
  }
  const result = parsed.value;
  if (!isPlainObject(result) || !('statusCode' in result)) {
    const body = typeof result === 'string' ? Buffer.from(result) : Buffer.from(parsed.text);
    return {
      response: { statusCode: 200, headers: [['content-type', 'application/json']], body },
    };
  }
  const status = checkStatusCode(result.statusCode);
  if (!status.ok) return malformed(status.reason);
  const headers = checkHeaders(result.headers, 'headers');
  if (!headers.ok) return malformed(headers.reason);
  const body = checkBody(result.body, result.isBase64Encoded);
  if (!body.ok) return malformed(body.reason);
  const { cookies } = result;
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== 'string')) {
      return malformed('cookies must be an array of strings');
    }
    for (const cookie of cookies as string[]) headers.value.push(['set-cookie', cookie]);
  }
  return { response: { statusCode: status.value, headers: headers.value, body: body.value } };
}
