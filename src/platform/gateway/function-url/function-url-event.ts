import { encodeRequestBody } from '../body-encoding.js';
import { ACCOUNT_ID } from '../gateway-request.js';
import { v2Headers } from '../headers.js';
import { parseQuery } from '../query-string.js';
import { formatRequestTime } from '../request-time.js';

/** What the function URL listener knows about a request when it builds the event. */
export interface FunctionUrlRequest {
  urlId: string;
  method: string;
  /** After the URL's root (the path form's `/_lambda-url/<id>` removed), still encoded. */
  rawPath: string;
  rawQuery: string;
  headers: string[];
  body: Buffer;
  sourceIp: string;
  requestId: string;
  timeEpochMs: number;
  domainName: string;
  protocol: string;
  /** `requestContext.authorizer.iam` of an AWS_IAM URL, once the signature checked out. */
  iam?: { accessKey: string; userArn: string; userId: string; callerId: string };
}

/**
 * The function URL event: payload format 2.0 (reference: "Lambda function URL") with routeKey
 * and stage `$default`, pathParameters and stageVariables null, apiId and domainPrefix the URL
 * id, and `accountId` "anonymous" unless an IAM caller signed the request.
 */
export function buildFunctionUrlEvent(req: FunctionUrlRequest): Record<string, unknown> {
  const { headers, cookies } = v2Headers(req.headers);
  let query: Record<string, string> | undefined;
  for (const [key, value] of parseQuery(req.rawQuery)) {
    query ??= {};
    const seen = query[key];
    query[key] = seen === undefined ? value : `${seen},${value}`;
  }
  const encoded = encodeRequestBody(req.body, headers['content-type']);
  const requestContext: Record<string, unknown> = {
    accountId: req.iam ? ACCOUNT_ID : 'anonymous',
    apiId: req.urlId,
    domainName: req.domainName,
    domainPrefix: req.urlId,
    http: {
      method: req.method,
      path: req.rawPath,
      protocol: req.protocol,
      sourceIp: req.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: req.requestId,
    routeKey: '$default',
    stage: '$default',
    time: formatRequestTime(req.timeEpochMs),
    timeEpoch: req.timeEpochMs,
  };
  if (req.iam) {
    requestContext.authorizer = {
      iam: {
        accessKey: req.iam.accessKey,
        accountId: ACCOUNT_ID,
        callerId: req.iam.callerId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: req.iam.userArn,
        userId: req.iam.userId,
      },
    };
  }
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath: req.rawPath,
    rawQueryString: req.rawQuery,
  };
  if (cookies !== undefined) event.cookies = cookies;
  event.headers = headers;
  if (query !== undefined) event.queryStringParameters = query;
  event.requestContext = requestContext;
  if (encoded.body !== undefined) event.body = encoded.body;
  event.pathParameters = null;
  event.isBase64Encoded = encoded.isBase64Encoded;
  event.stageVariables = null;
  return event;
}
