import { encodeRequestBody } from './body-encoding.js';
import { ACCOUNT_ID, domainPrefixOf, type GatewayRequest } from './gateway-request.js';
import { v2Headers } from './headers.js';
import { parseQuery } from './query-string.js';
import { formatRequestTime } from './request-time.js';

/** The HTTP API event, payload format 2.0. Optional fields are absent, not null, as on AWS. */
export interface ApiGatewayProxyEventV2 {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
    authorizer?: Record<string, unknown>;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/**
 * Builds the v2 event: lower-case header names, repeated headers and query values joined
 * with `,`, the cookie header moved to `cookies`; stage `$default` unless the request says
 * otherwise, so `rawPath` is the route path with no stage prefix.
 */
export function buildEventV2(req: GatewayRequest): ApiGatewayProxyEventV2 {
  const { match } = req;
  const { headers, cookies } = v2Headers(req.headers);
  let query: Record<string, string> | undefined;
  for (const [key, value] of parseQuery(req.rawQuery)) {
    query ??= {};
    const seen = query[key];
    query[key] = seen === undefined ? value : `${seen},${value}`;
  }
  const encoded = encodeRequestBody(req.body, headers['content-type']);
  const { route } = match;
  const event: ApiGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: match.routeKey,
    rawPath: match.path,
    rawQueryString: req.rawQuery,
    headers,
    requestContext: {
      accountId: req.accountId ?? ACCOUNT_ID,
      apiId: `${route.service}-${route.stage}`,
      domainName: req.domainName,
      domainPrefix: domainPrefixOf(req.domainName),
      http: {
        method: req.method,
        path: match.path,
        protocol: req.protocol ?? 'HTTP/1.1',
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: req.requestId,
      routeKey: match.routeKey,
      stage: req.stage ?? '$default',
      time: formatRequestTime(req.timeEpochMs),
      timeEpoch: req.timeEpochMs,
    },
    isBase64Encoded: encoded.isBase64Encoded,
  };
  if (req.authorizer) event.requestContext.authorizer = req.authorizer;
  if (cookies !== undefined) event.cookies = cookies;
  if (query !== undefined) event.queryStringParameters = query;
  if (match.pathParameters !== undefined) event.pathParameters = match.pathParameters;
  if (encoded.body !== undefined) event.body = encoded.body;
  return event;
}
