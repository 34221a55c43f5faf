/**
 * What a route asks of its callers before its function runs, compiled once from the service
 * definition when a deployment lands (and checked when it is sent, so a bad authorizer fails the
 * deploy instead of leaving the route public). The gateway reads only these shapes per request.
 */
import { NimbusError } from '../../../errors/nimbus-error.js';
import type {
  HttpApiEvent,
  HttpEvent,
  ServiceDefinition,
} from '../../../model/service-definition.js';

/** Where an authorizer reads a caller's identity: a header (lower-case name) or a query value. */
export interface IdentitySource {
  from: 'header' | 'query';
  name: string;
}

export interface JwtAuthorizer {
  type: 'jwt';
  name: string;
  /** The `iss` every token must carry; its JWKS is found through OpenID discovery. */
  issuer: string;
  /** `aud` (or, without one, `client_id`) must be one of these. */
  audience: string[];
  identitySource: IdentitySource;
  /** The route's scopes: the token must hold at least one (none: any valid token). */
  scopes: string[];
}

export interface LambdaAuthorizer {
  type: 'lambda';
  name: string;
  /** REST (`http`, payload 1.0 with IAM policies) or HTTP API (`httpApi`). */
  api: 'http' | 'httpApi';
  functionName: string;
  /** The stage alias for a function of the same service; an ARN's qualifier otherwise. */
  qualifier: string | undefined;
  /** REST TOKEN authorizers get `{type: TOKEN, authorizationToken, methodArn}`. */
  token: boolean;
  identitySources: IdentitySource[];
  /** REST TOKEN: a token that does not match is refused (401) without calling the function. */
  validation?: RegExp;
  /** 0: no caching. */
  ttlMs: number;
  /** HTTP API: `{isAuthorized, context}` instead of an IAM policy. */
  simpleResponses: boolean;
  payloadVersion: '1.0' | '2.0';
}

/** REST `cognito_user_pools`: tokens of a Nimbus user pool (cognito-authorizer.ts). */
export interface CognitoAuthorizer {
  type: 'cognito';
  name: string;
  poolId: string;
  identitySource: IdentitySource;
  /** authorizationScopes: access tokens holding one of them; none: ID tokens. */
  scopes: string[];
}

export interface IamAuthorizer {
  type: 'iam';
}

export type Authorizer = JwtAuthorizer | LambdaAuthorizer | IamAuthorizer | CognitoAuthorizer;

export interface RouteAccess {
  authorizer?: Authorizer;
  /** REST `private: true`: an `x-api-key` of the stage's usage plans is required. */
  apiKeyRequired: boolean;
}

/** A configuration the gateway cannot enforce: the message names where and why. */
export class AccessConfigError extends NimbusError {
  constructor(message: string) {
    super('NIMBUS_GATEWAY_ACCESS_CONFIG', message);
  }
}

/** API Gateway's default for REST authorizers; HTTP API Lambda authorizers too (SF default). */
const defaultTtlSeconds = 300;
const maxTtlSeconds = 3600;

/**
 * The access rules of one http/httpApi event; undefined for a public route (the common case, so
 * the gateway pays nothing for it). Throws AccessConfigError for anything it cannot enforce.
 */
export function compileRouteAccess(
  definition: ServiceDefinition,
  event: HttpEvent | HttpApiEvent,
): RouteAccess | undefined {
  const raw = event.authorizer;
  const apiKeyRequired = event.kind === 'http' && event.private === true;
  if ((raw === undefined || raw === null) && !apiKeyRequired) return undefined;
  const access: RouteAccess = { apiKeyRequired };
  if (raw !== undefined && raw !== null) {
    access.authorizer =
      event.kind === 'http' ? restAuthorizer(definition, raw) : httpApiAuthorizer(definition, raw);
  }
  return access;
}

function restAuthorizer(definition: ServiceDefinition, raw: unknown): Authorizer {
  const spec: Record<string, unknown> =
    typeof raw === 'string' ? { name: raw } : isObject(raw) ? raw : fail('must be a name or map');
  const type = optionalString(spec.type, 'type')?.toLowerCase();
  const name = optionalString(spec.name, 'name');
  const arn = optionalString(spec.arn, 'arn');
  if (type === 'aws_iam' || name === 'aws_iam' || arn === 'aws_iam') return { type: 'iam' };
  if (type === 'cognito_user_pools' || arn?.includes(':cognito-idp:')) {
    return cognitoAuthorizer(spec, name, arn);
  }
  // `authorizer: <user pool ARN>` as a plain string, as the Framework allows.
  if (typeof raw === 'string' && raw.includes(':cognito-idp:')) {
    return cognitoAuthorizer({}, undefined, raw);
  }
  if (type !== undefined && type !== 'token' && type !== 'request') {
    fail(`type must be token, request, aws_iam or cognito_user_pools, not "${spec.type}"`);
  }
  const target = lambdaTarget(definition, arn ?? name, arn !== undefined || isLambdaArn(name));
  const token = type !== 'request';
  const identitySources = parseIdentitySources(
    spec.identitySource ?? (token ? 'method.request.header.Authorization' : undefined),
    'rest',
  );
  if (token && identitySources.length !== 1) {
    fail('a token authorizer takes exactly one identitySource header');
  }
  if (!token && identitySources.length === 0) {
    fail('a request authorizer needs an identitySource (e.g. method.request.header.Auth)');
  }
  const expression = optionalString(
    spec.identityValidationExpression,
    'identityValidationExpression',
  );
  return {
    type: 'lambda',
    name: name ?? target.functionName,
    api: 'http',
    ...target,
    token,
    identitySources,
    ...(expression === undefined ? {} : { validation: compileExpression(expression) }),
    ttlMs: ttlOf(spec.resultTtlInSeconds) * 1000,
    simpleResponses: false,
    payloadVersion: '1.0',
  };
}

/** `arn:aws:cognito-idp:<region>:<account>:userpool/<poolId>` (after intrinsics resolve). */
const userPoolArn =
  /^arn:aws[a-zA-Z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/([\w-]+_[0-9a-zA-Z]+)$/;

function cognitoAuthorizer(
  spec: Record<string, unknown>,
  name: string | undefined,
  arn: string | undefined,
): CognitoAuthorizer {
  if (arn === undefined) fail('a cognito_user_pools authorizer needs arn (the user pool ARN)');
  const m = userPoolArn.exec(arn);
  if (!m)
    fail(`"${arn}" is not a user pool ARN (arn:aws:cognito-idp:<region>:<account>:userpool/<id>)`);
  const sources = parseIdentitySources(
    spec.identitySource ?? 'method.request.header.Authorization',
    'rest',
  );
  if (sources.length !== 1 || sources[0]!.from !== 'header') {
    fail('a cognito_user_pools authorizer takes one identitySource header');
  }
  return {
    type: 'cognito',
    name: name ?? m[1]!,
    poolId: m[1]!,
    identitySource: sources[0]!,
    scopes: stringList(spec.scopes, 'scopes'),
  };
}

function httpApiAuthorizer(definition: ServiceDefinition, raw: unknown): Authorizer {
  const ref: Record<string, unknown> =
    typeof raw === 'string' ? { name: raw } : isObject(raw) ? raw : fail('must be a name or map');
  if (String(ref.type ?? '').toLowerCase() === 'aws_iam') return { type: 'iam' };
  if (ref.id !== undefined) {
    fail('authorizer.id names an authorizer outside the service; use provider.httpApi.authorizers');
  }
  const name = optionalString(ref.name, 'name') ?? fail('needs the name of an authorizer');
  const scopes = stringList(ref.scopes, 'scopes');
  const declared = (
    definition.provider.httpApi?.authorizers as Record<string, unknown> | undefined
  )?.[name];
  if (!isObject(declared)) fail(`"${name}" is not in provider.httpApi.authorizers`);
  const where = `provider.httpApi.authorizers.${name}`;
  return withPrefix(where, () => declaredHttpApiAuthorizer(definition, name, declared, scopes));
}

function declaredHttpApiAuthorizer(
  definition: ServiceDefinition,
  name: string,
  spec: Record<string, unknown>,
  scopes: string[],
): Authorizer {
  const type = String(spec.type ?? 'jwt').toLowerCase();
  if (type === 'jwt') {
    const issuer = optionalString(spec.issuerUrl, 'issuerUrl') ?? fail('issuerUrl is required');
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      fail(`issuerUrl "${issuer}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('issuerUrl must be http(s)');
    const audience = stringList(spec.audience, 'audience');
    if (audience.length === 0) fail('audience is required (one client id or a list)');
    const sources = parseIdentitySources(
      spec.identitySource ?? '$request.header.Authorization',
      'httpApi',
    );
    if (sources.length !== 1 || sources[0]!.from !== 'header') {
      fail('a jwt authorizer takes one identitySource header');
    }
    return { type: 'jwt', name, issuer, audience, identitySource: sources[0]!, scopes };
  }
  if (type !== 'request') fail(`type must be jwt or request, not "${spec.type}"`);
  if (scopes.length > 0) fail('scopes apply to jwt authorizers only');
  const fnName = optionalString(spec.functionName, 'functionName');
  const fnArn = optionalString(spec.functionArn, 'functionArn');
  if (fnName === undefined && fnArn === undefined) fail('functionName or functionArn is required');
  const target = lambdaTarget(definition, fnArn ?? fnName, fnArn !== undefined);
  const payloadVersion = String(spec.payloadVersion ?? '2.0');
  if (payloadVersion !== '1.0' && payloadVersion !== '2.0') {
    fail(`payloadVersion must be "1.0" or "2.0", not "${payloadVersion}"`);
  }
  const simpleResponses = spec.enableSimpleResponses === true;
  if (simpleResponses && payloadVersion !== '2.0') {
    fail('enableSimpleResponses needs payloadVersion "2.0"');
  }
  const identitySources =
    spec.identitySource === undefined ? [] : parseIdentitySources(spec.identitySource, 'httpApi');
  const ttlSeconds = ttlOf(spec.resultTtlInSeconds);
  if (ttlSeconds > 0 && identitySources.length === 0) {
    fail('caching (resultTtlInSeconds > 0) needs an identitySource to key the cache by');
  }
  return {
    type: 'lambda',
    name,
    api: 'httpApi',
    ...target,
    token: false,
    identitySources,
    ttlMs: ttlSeconds * 1000,
    simpleResponses,
    payloadVersion,
  };
}

const lambdaArn =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([a-zA-Z0-9_-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

function isLambdaArn(text: string | undefined): boolean {
  return text?.startsWith('arn:') === true;
}

/** A function key of this service runs at the stage alias; an ARN names any deployed function. */
function lambdaTarget(
  definition: ServiceDefinition,
  ref: string | undefined,
  isArn: boolean,
): { functionName: string; qualifier: string | undefined } {
  if (ref === undefined) fail('needs the authorizer function (name or arn)');
  if (isArn) {
    const m = lambdaArn.exec(ref);
    if (!m) fail(`"${ref}" is not a Lambda function ARN`);
    return { functionName: m[1]!, qualifier: m[2] };
  }
  const fn = definition.functions[ref];
  if (!fn) fail(`authorizer function "${ref}" is not defined in functions`);
  return { functionName: fn.name, qualifier: definition.stage };
}

const restSource = /^method\.request\.(header|querystring)\.([A-Za-z0-9!#$%&'*+.^_`|~-]+)$/;
const httpApiSource = /^\$request\.(header|querystring)\.([A-Za-z0-9!#$%&'*+.^_`|~-]+)$/;

/** `method.request.header.X` (REST) or `$request.header.X` (HTTP API); a list or comma-separated. */
export function parseIdentitySources(raw: unknown, api: 'rest' | 'httpApi'): IdentitySource[] {
  if (raw === undefined || raw === null) return [];
  const list =
    typeof raw === 'string'
      ? raw.split(',').map((s) => s.trim())
      : Array.isArray(raw)
        ? raw
        : fail('identitySource must be a string or a list');
  return list.map((item) => {
    const m =
      typeof item === 'string' ? (api === 'rest' ? restSource : httpApiSource).exec(item) : null;
    if (!m) {
      const example =
        api === 'rest' ? 'method.request.header.Authorization' : '$request.header.Authorization';
      fail(
        `identitySource ${JSON.stringify(item)} is not supported: use a header or query string, e.g. ${example}`,
      );
    }
    return m[1] === 'header'
      ? { from: 'header', name: m[2]!.toLowerCase() }
      : { from: 'query', name: m[2]! };
  });
}

function compileExpression(expression: string): RegExp {
  try {
    // Anchored as API Gateway matches the whole token.
    return new RegExp(`^(?:${expression})$`);
  } catch (error) {
    fail(
      `identityValidationExpression is not a valid regular expression: ${(error as Error).message}`,
    );
  }
}

function ttlOf(raw: unknown): number {
  if (raw === undefined || raw === null) return defaultTtlSeconds;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > maxTtlSeconds) {
    fail(`resultTtlInSeconds must be an integer from 0 to ${maxTtlSeconds}`);
  }
  return n;
}

function optionalString(raw: unknown, field: string): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string' || raw === '') fail(`${field} must be a non-empty string`);
  return raw;
}

function stringList(raw: unknown, field: string): string[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (!list.every((s) => typeof s === 'string' && s !== '')) {
    fail(`${field} must be a string or a list of strings`);
  }
  return list as string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withPrefix<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AccessConfigError)
      throw new AccessConfigError(`${where}: ${error.message}`);
    throw error;
  }
}

function fail(message: string): never {
  throw new AccessConfigError(message);
}
