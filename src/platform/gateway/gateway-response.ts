import { STATUS_CODES } from 'node:http';
import { NimbusError } from '../../errors/nimbus-error.js';

/**
 * What the gateway sends back to the HTTP client, whatever produced it (a mapped function
 * result, a preflight, or one of API Gateway's own error answers). Headers are pairs so a
 * name may repeat (several `set-cookie`), which a record could not carry.
 */
export interface GatewayResponse {
  statusCode: number;
  headers: [name: string, value: string][];
  body: Buffer;
}

/** Why a function result could not be turned into a response; for the log, never the client. */
export interface MappingProblem {
  error: string;
  reason: string;
}

/** A response mapping: always a response to send, plus the reason when it is an error answer. */
export interface MappingResult {
  response: GatewayResponse;
  problem?: MappingProblem;
}

/** The 6 MB synchronous payload cap that Lambda puts on requests (reference §2). */
export const MAX_REQUEST_BODY_BYTES = 6 * 1024 * 1024;

// The error bodies are the exact bytes API Gateway sends (v1 keeps its space after the colon);
// they are encoded once so an error answer costs no serialization.
const NOT_FOUND = Buffer.from('{"message":"Not Found"}');
const INTERNAL_V1 = Buffer.from('{"message": "Internal server error"}');
const INTERNAL_V2 = Buffer.from('{"message":"Internal Server Error"}');

function jsonAnswer(statusCode: number, body: Buffer): GatewayResponse {
  // A fresh headers array per call: callers may append CORS headers to it.
  return { statusCode, headers: [['content-type', 'application/json']], body };
}

/** 404 for a request no route matches. */
export function notFoundResponse(): GatewayResponse {
  return jsonAnswer(404, NOT_FOUND);
}

/** API Gateway's own wording where it differs from node's reason phrase. */
const gatewayMessages: Record<number, string> = {
  413: 'Request Entity Too Large',
};

/**
 * API Gateway's envelope, `{"message":"<reason>"}`, for a NimbusError the client caused (a
 * status under 500: body over the cap, throttled): the status, API Gateway's fixed wording (it
 * never tells clients more) and the error's headers. Anything else gives undefined: the listener
 * answers the route's internal error and logs the cause.
 */
export function clientErrorResponse(error: unknown): GatewayResponse | undefined {
  if (!(error instanceof NimbusError) || error.status === undefined || error.status >= 500) {
    return undefined;
  }
  const message = gatewayMessages[error.status] ?? STATUS_CODES[error.status] ?? 'Error';
  const answer = jsonAnswer(error.status, Buffer.from(JSON.stringify({ message })));
  for (const [name, value] of Object.entries(error.headers)) answer.headers.push([name, value]);
  return answer;
}

/** REST API (v1): a function error or a malformed proxy response is a 502. */
export function internalErrorV1(): GatewayResponse {
  return jsonAnswer(502, INTERNAL_V1);
}

/**
 * HTTP API (v2): a function error or a malformed response is a 500 (reference §5: "else 500"
 * for HTTP API; REST answers 502).
 */
export function internalErrorV2(): GatewayResponse {
  return jsonAnswer(500, INTERNAL_V2);
}
