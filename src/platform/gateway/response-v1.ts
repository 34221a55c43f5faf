import type { InvokeOutcome } from '../../model/invocation.js';
import { internalErrorV1, type MappingResult } from './gateway-response.js';
import {
  checkBody,
  checkHeaders,
  checkMultiValueHeaders,
  checkStatusCode,
  functionResult,
  hasHeader,
  isPlainObject,
  notAnObjectReason,
} from './response-parts.js';

/** The only fields a REST proxy response may carry; anything else is malformed (reference §5). */
const V1_FIELDS = new Set([
  'statusCode',
  'headers',
  'multiValueHeaders',
  'body',
  'isBase64Encoded',
]);

const MALFORMED = 'Malformed Lambda proxy response';

function malformed(reason: string): MappingResult {
  return { response: internalErrorV1(), problem: { error: MALFORMED, reason } };
}

/**
 * Maps a function outcome to the REST API (v1) response. The result must be
 * `{statusCode, headers?, multiValueHeaders?, body?: string, isBase64Encoded?}`; anything else,
 * and any function error, is a 502 `{"message": "Internal server error"}` with the reason in
 * `problem`. The two header maps merge, multiValueHeaders winning for a name in both.
 * Without a content-type the response says `application/json`, as API Gateway does.
 */
export function mapResponseV1(outcome: InvokeOutcome): MappingResult {
  const parsed = functionResult(outcome);
  if (!parsed.ok) {
    if (!parsed.functionError) return malformed(parsed.reason);
    return {
      response: internalErrorV1(),
      problem: { error: 'Function error', reason: parsed.reason },
    };
  }
  const result = parsed.value;
  if (!isPlainObject(result)) return malformed(notAnObjectReason(result));
  for (const key in result) {
    if (!V1_FIELDS.has(key)) return malformed(`unexpected field "${key}"`);
  }
  if (!('statusCode' in result)) return malformed('statusCode is missing');
  const status = checkStatusCode(result.statusCode);
  if (!status.ok) return malformed(status.reason);
  const single = checkHeaders(result.headers, 'headers');
  if (!single.ok) return malformed(single.reason);
  const multi = checkMultiValueHeaders(result.multiValueHeaders);
  if (!multi.ok) return malformed(multi.reason);
  const body = checkBody(result.body, result.isBase64Encoded);
  if (!body.ok) return malformed(body.reason);
  let headers = multi.value;
  if (single.value.length > 0) {
    const overridden = new Set(multi.value.map(([name]) => name.toLowerCase()));
    headers = single.value
      .filter(([name]) => !overridden.has(name.toLowerCase()))
      .concat(multi.value);
  }
  if (!hasHeader(headers, 'content-type')) headers.push(['content-type', 'application/json']);
  return { response: { statusCode: status.value, headers, body: body.value } };
}
