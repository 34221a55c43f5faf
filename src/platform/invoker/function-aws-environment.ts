/**
 * What lets an AWS SDK inside a function reach Nimbus with no code change: the platform's URL as
 * every service's endpoint (`AWS_ENDPOINT_URL` and the per-service variables the SDKs read) and
 * session credentials scoped to the function's service stage (docs/runtimes.md).
 */
import type { SessionCredentials, SessionScope } from '../auth/session-credentials.js';

/**
 * The per-service endpoint variables (the SDKs' service ids, upper-cased, spaces as `_`): SDKs
 * that predate AWS_ENDPOINT_URL's global form but know these, and tools reading them directly.
 */
export const serviceEndpointVariables = [
  'S3',
  'DYNAMODB',
  'SQS',
  'SNS',
  'EVENTBRIDGE',
  'KINESIS',
  'LAMBDA',
  'COGNITO_IDENTITY_PROVIDER',
  'IOT_DATA_PLANE',
] as const;

/**
 * The endpoint a function reaches its platform at. A wildcard listen address is not a place to
 * connect to: loopback is. The result is always an IP address, which also makes the S3 SDKs use
 * path-style addressing (`http://127.0.0.1:port/bucket/key`): a virtual-host name such as
 * `bucket.localhost` does not resolve everywhere.
 */
export function functionEndpoint(listenerUrl: string): string {
  const url = new URL(listenerUrl);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  else if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

/**
 * The endpoint before the listener has started (provisioned instances are started by the
 * reconciler's first pass, ahead of the listener): known when a fixed port was asked for.
 * Undefined for port 0, whose real port only the listener learns.
 */
export function plannedFunctionEndpoint(host: string, port: number): string | undefined {
  if (port === 0) return undefined;
  const loopback = host === '' || host === 'localhost' || host === '0.0.0.0' || host === '::';
  const name = loopback ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return functionEndpoint(`http://${name}:${port}`);
}

export function functionAwsEnvironment(
  endpoint: string,
  credentials: SessionCredentials,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
  for (const service of serviceEndpointVariables) env[`AWS_ENDPOINT_URL_${service}`] = endpoint;
  return env;
}

/** Wraps an instance factory so each new instance starts with its own endpoint and credentials. */
export function withFunctionAwsEnvironment<T extends { owner?: SessionScope }, R, K>(
  create: (target: T, kind: K) => Promise<R>,
  deps: {
    endpoint: () => string;
    credentials: (scope: SessionScope) => Promise<SessionCredentials>;
  },
): (target: T, kind: K) => Promise<R> {
  return async (target, kind) => {
    const endpoint = deps.endpoint();
    if (!target.owner || endpoint === '') return create(target, kind);
    const platformEnvironment = functionAwsEnvironment(
      endpoint,
      await deps.credentials(target.owner),
    );
    return create({ ...target, platformEnvironment }, kind);
  };
}
