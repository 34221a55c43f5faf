import type { InvokeOutcome } from '../../../model/invocation.js';
import type { GatewayResponse, MappingResult } from '../gateway-response.js';
import { mapResponseV2 } from '../response-v2.js';

const INTERNAL = Buffer.from('Internal Server Error');

/** A function error or a malformed response: 502 with Lambda's plain-text wording. */
export function functionUrlInternalError(): GatewayResponse {
  return { statusCode: 502, headers: [['content-type', 'text/plain']], body: INTERNAL };
}

/**
 * Maps a function outcome to the function URL's HTTP response: the payload 2.0 rules (explicit
 * `{statusCode, headers, cookies, body, isBase64Encoded}`, inferred 200 JSON otherwise), except
 * that a bare JSON string keeps its quotes (`"Hello"` is sent as the 7 bytes `"Hello"`, as the
 * function URL docs show) and errors answer 502 `Internal Server Error`.
 */
export function mapFunctionUrlResponse(outcome: InvokeOutcome): MappingResult {
  if (outcome.status === 'ok' && outcome.payload.startsWith('"')) {
    return {
      response: {
        statusCode: 200,
        headers: [['content-type', 'application/json']],
        body: Buffer.from(outcome.payload),
      },
    };
  }
  const mapped = mapResponseV2(outcome);
  if (mapped.problem) mapped.response = functionUrlInternalError();
  return mapped;
}
