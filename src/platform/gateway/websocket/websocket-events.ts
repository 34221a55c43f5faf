/**
 * The events API Gateway sends a WebSocket API's functions: CONNECT (with the handshake's
 * headers and query string), MESSAGE (one per client message) and DISCONNECT.
 */
import { randomUUID } from 'node:crypto';
import { formatRequestTime } from '../request-time.js';

/** What every event of a connection shares, fixed at the handshake. */
export interface ConnectionFacts {
  connectionId: string;
  apiId: string;
  stage: string;
  /** The Host the client connected to: `https://${domainName}/${stage}` reaches @connections. */
  domainName: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string | undefined;
}

export interface HandshakeFacts {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  query: Record<string, string> | undefined;
  multiValueQuery: Record<string, string[]> | undefined;
}

function requestContext(
  facts: ConnectionFacts,
  routeKey: string,
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
  now: number,
): Record<string, unknown> {
  const requestId = randomUUID();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: formatRequestTime(now),
    messageDirection: 'IN',
    stage: facts.stage,
    connectedAt: facts.connectedAt,
    requestTimeEpoch: now,
    identity: {
      sourceIp: facts.sourceIp,
      ...(facts.userAgent === undefined ? {} : { userAgent: facts.userAgent }),
    },
    requestId,
    domainName: facts.domainName,
    connectionId: facts.connectionId,
    apiId: facts.apiId,
  };
}

export function connectEvent(
  facts: ConnectionFacts,
  handshake: HandshakeFacts,
  now: number,
  authorizer: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const context = requestContext(facts, '$connect', 'CONNECT', now);
  if (authorizer) context.authorizer = authorizer;
  return {
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    ...(handshake.query
      ? {
          queryStringParameters: handshake.query,
          multiValueQueryStringParameters: handshake.multiValueQuery,
        }
      : {}),
    requestContext: context,
    isBase64Encoded: false,
  };
}

export function messageEvent(
  facts: ConnectionFacts,
  routeKey: string,
  body: string,
  isBinary: boolean,
  now: number,
  authorizer: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const context = requestContext(facts, routeKey, 'MESSAGE', now);
  context.messageId = randomUUID().replace(/-/g, '').slice(0, 16);
  if (authorizer) context.authorizer = authorizer;
  return { requestContext: context, body, isBase64Encoded: isBinary };
}

export function disconnectEvent(
  facts: ConnectionFacts,
  handshake: HandshakeFacts,
  now: number,
  status: { code: number; reason: string },
  authorizer: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const context = requestContext(facts, '$disconnect', 'DISCONNECT', now);
  context.disconnectStatusCode = status.code;
  context.disconnectReason = status.reason;
  if (authorizer) context.authorizer = authorizer;
  return {
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    requestContext: context,
    isBase64Encoded: false,
  };
}

/** The REQUEST authorizer event of a `$connect`. */
export function authorizerRequestEvent(
  facts: ConnectionFacts,
  handshake: HandshakeFacts,
  now: number,
  region: string,
  accountId: string,
): Record<string, unknown> {
  return {
    type: 'REQUEST',
    methodArn: `arn:aws:execute-api:${region}:${accountId}:${facts.apiId}/${facts.stage}/$connect`,
    headers: handshake.headers,
    multiValueHeaders: handshake.multiValueHeaders,
    queryStringParameters: handshake.query ?? {},
    multiValueQueryStringParameters: handshake.multiValueQuery ?? {},
    stageVariables: {},
    requestContext: requestContext(facts, '$connect', 'CONNECT', now),
  };
}

/** Headers of the upgrade request as the event carries them (last value / every value). */
export function handshakeOf(rawHeaders: string[], rawQuery: string): HandshakeFacts {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  if (rawQuery === '')
    return { headers, multiValueHeaders, query: undefined, multiValueQuery: undefined };
  const query: Record<string, string> = {};
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    query[name] = value;
    multiValueQuery[name] = [...(multiValueQuery[name] ?? []), value];
  }
  return { headers, multiValueHeaders, query, multiValueQuery };
}
