import { STATUS_CODES, validateHeaderName, validateHeaderValue } from 'node:http';
import type { InvokeOutcome } from '../../../model/invocation.js';
import type { GatewayResponse, MappingResult } from '../gateway-response.js';
import {
  checkBody,
  checkHeaders,
  checkMultiValueHeaders,
  checkStatusCode,
  functionResult,
  isPlainObject,
  notAnObjectReason,
} from '../response-parts.js';

/** ELB's 1 MB cap on a Lambda target's response body: over it the client gets a 502. */
export const MAX_ALB_BODY_BYTES = 1024 * 1024;

/** An ALB response: a GatewayResponse plus the reason phrase from `statusDescription`. */
export interface AlbResponse extends GatewayResponse {
  statusMessage?: string;
}

/**
 * ELB's own error page (the bytes it sends for 502, 413, ...): HTML, `awselb/2.0` server.
 * Built per status once.
 */
const pages = new Map<number, Buffer>();
/** ELB's wording where it differs from node's reason phrase. */
const elbPhrases: Record<number, string> = { 413: 'Request Entity Too Large' };
export function albErrorPage(statusCode: number): AlbResponse {
  let page = pages.get(statusCode);
  if (page === undefined) {
    const title = `${statusCode} ${elbPhrases[statusCode] ?? STATUS_CODES[statusCode] ?? 'Error'}`;
    page = Buffer.from(
      `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
    );
    pages.set(statusCode, page);
  }
  return {
    statusCode,
    headers: [
      ['server', 'awselb/2.0'],
      ['content-type', 'text/html'],
    ],
    body: page,
  };
}

function badGateway(reason: string, error = 'Malformed Lambda response'): MappingResult {
  return { response: albErrorPage(502), problem: { error, reason } };
}

/** `200 OK` → `OK`; a phrase that could not go on the status line is dropped. */
function reasonPhrase(description: unknown, statusCode: number): string | undefined {
  if (typeof description !== 'string') return undefined;
  const text = description.startsWith(`${statusCode} `)
    ? description.slice(String(statusCode).length + 1)
    : description;
  return /^[\t\x20-\x7e]{1,256}$/.test(text) ? text : undefined;
}

/**
 * Maps a function outcome to the ALB response: `{statusCode, statusDescription?, headers? |
 * multiValueHeaders?, body?: string, isBase64Encoded?}`. With multi-value headers on, the
 * response's `multiValueHeaders` are used and `headers` ignored; off, the other way round (ELB
 * reads only the form the target group is set to). A function error, a result that is not such
 * an object, or a body over 1 MB is ELB's 502 page; the reason goes to `problem` (the log).
 */
export function mapAlbResponse(
  outcome: InvokeOutcome,
  multiValueHeaders: boolean,
): MappingResult & { response: AlbResponse } {
  const parsed = functionResult(outcome);
  if (!parsed.ok) {
    return parsed.functionError
      ? badGateway(parsed.reason, 'Function error')
      : badGateway(parsed.reason);
  }
  const result = parsed.value;
  if (!isPlainObject(result)) return badGateway(notAnObjectReason(result));
  if (!('statusCode' in result)) return badGateway('statusCode is missing');
  const status = checkStatusCode(result.statusCode);
  if (!status.ok) return badGateway(status.reason);
  const headers = multiValueHeaders
    ? checkMultiValueHeaders(result.multiValueHeaders)
    : checkHeaders(result.headers, 'headers');
  if (!headers.ok) return badGateway(headers.reason);
  for (const [name, value] of headers.value) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      return badGateway(`header ${JSON.stringify(name)} cannot go on the wire`);
    }
  }
  const body = checkBody(result.body, result.isBase64Encoded);
  if (!body.ok) return badGateway(body.reason);
  if (body.value.length > MAX_ALB_BODY_BYTES) {
    return badGateway(`the body is ${body.value.length} bytes; ELB takes at most 1 MB`);
  }
  const response: AlbResponse = {
    statusCode: status.value,
    headers: headers.value,
    body: body.value,
  };
  const phrase = reasonPhrase(result.statusDescription, status.value);
  if (phrase !== undefined) response.statusMessage = phrase;
  return { response };
}
