import { encodeRequestBody } from './body-encoding.js';
import { ACCOUNT_ID, domainPrefixOf, type GatewayRequest } from './gateway-request.js';
import { v1Headers } from './headers.js';
import { parseQuery } from './query-string.js';
import { formatRequestTime } from './request-time.js';

/** The REST API lambda-proxy event (payload 1.0), field for field as API Gateway sends it. */
export interface ApiGatewayProxyEventV1 {
  resource: string;
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
  pathParameters: Record<string, string> | null;
  stageVariables: null;
  requestContext: {
    accountId: string;
    apiId: string;
    resourceId: string;
    resourcePath: string;
    httpMethod: string;
    extendedRequestId: string;
    requestTime: string;
    path: string;
    protocol: string;
    stage: string;
    domainPrefix: string;
    requestTimeEpoch: number;
    requestId: string;
    identity: V1Identity;
    domainName: string;
    authorizer?: Record<string, unknown>;
  };
  body: string | null;
  isBase64Encoded: boolean;
}

export interface V1Identity {
  apiKey?: string;
  apiKeyId?: string;
  cognitoIdentityPoolId: null;
  accountId: null;
  cognitoIdentityId: null;
  caller: null;
  sourceIp: string;
  principalOrgId: null;
  accessKey: null;
  cognitoAuthenticationType: null;
  cognitoAuthenticationProvider: null;
  userArn: null;
  userAgent: string | null;
  user: null;
}

/**
 * Builds the v1 event. `headers`/`queryStringParameters` keep the last value of a repeated
 * name, the `multiValue*` maps keep all; maps with nothing in them are null, as on AWS.
 * `apiId` is the stage's base name (`my-svc-dev`): unique per deployed stage and readable.
 */
export function buildEventV1(req: GatewayRequest): ApiGatewayProxyEventV1 {
  const { match } = req;
  const { headers, multiValueHeaders } = v1Headers(req.headers);
  let query: Record<string, string> | null = null;
  let multiQuery: Record<string, string[]> | null = null;
  for (const [key, value] of parseQuery(req.rawQuery)) {
    query ??= {};
    multiQuery ??= {};
    query[key] = value;
    const list = multiQuery[key];
    if (list === undefined) multiQuery[key] = [value];
    else list.push(value);
  }
  let userAgent: string | null = null;
  let contentType: string | undefined;
  for (const name in headers) {
    const lower = name.toLowerCase();
    if (lower === 'user-agent') userAgent = headers[name]!;
    else if (lower === 'content-type') contentType = headers[name];
  }
  const encoded = encodeRequestBody(req.body, contentType);
  const { route } = match;
  const event: ApiGatewayProxyEventV1 = {
    resource: match.resource,
    path: match.path,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: match.pathParameters ?? null,
    stageVariables: null,
    requestContext: {
      accountId: req.accountId ?? ACCOUNT_ID,
      apiId: `${route.service}-${route.stage}`,
      resourceId: route.resourceId,
      resourcePath: match.resource,
      httpMethod: req.method,
      extendedRequestId: req.requestId,
      requestTime: formatRequestTime(req.timeEpochMs),
      path: req.stage === undefined ? match.stagePath : `/${req.stage}${match.path}`,
      protocol: req.protocol ?? 'HTTP/1.1',
      stage: req.stage ?? route.stage,
      domainPrefix: domainPrefixOf(req.domainName),
      requestTimeEpoch: req.timeEpochMs,
      requestId: req.requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: req.sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent,
        user: null,
      },
      domainName: req.domainName,
    },
    body: encoded.body ?? null,
    isBase64Encoded: encoded.isBase64Encoded,
  };
  if (req.identity) Object.assign(event.requestContext.identity, req.identity);
  if (req.authorizer) event.requestContext.authorizer = req.authorizer;
  return event;
}
