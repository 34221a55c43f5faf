/**
 * The gateway's access check, run after routing and before the event is built, for protected
 * routes only (a public route never reaches it). Order as API Gateway: the authorizer (JWT,
 * Lambda or IAM), then the API key and its usage plan. A refusal is API Gateway's own answer
 * for that case; the reason goes to the platform log, never the token or key.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../../model/clock.js';
import { type AccessKeyScope, scopeAllows } from '../../auth/access-key-store.js';
import type { RequestVerifier } from '../../auth/request-verifier.js';
import type { Invoker } from '../../invoker/invoker-port.js';
import { ACCOUNT_ID, type GatewayRequest } from '../gateway-request.js';
import type { GatewayResponse } from '../gateway-response.js';
import { parseQuery } from '../query-string.js';
import { methodArnOf } from './authorizer-events.js';
import { CognitoAuthorizerVerifier, type UserPoolKeySource } from './cognito-authorizer.js';
import { verifyIam } from './iam-authorizer.js';
import type { JwksCache } from './jwks-cache.js';
import { verifyJwt } from './jwt-authorizer.js';
import { LambdaAuthorizerRunner } from './lambda-authorizer.js';
import type { IdentitySource, RouteAccess } from './route-access.js';
import type { UsageLimiter } from './usage-limiter.js';
import type { StageUsage, UsagePlan } from './usage-plan-config.js';

/** What the event builders add to requestContext once access is granted. */
export interface GrantedAccess {
  authorizer?: Record<string, unknown>;
  /** v1 `requestContext.identity` fields the check filled in. */
  identity?: Record<string, string>;
}

export type AccessResult =
  | { ok: true; granted: GrantedAccess }
  | { ok: false; response: GatewayResponse };

/** A stage's API keys as the gate looks them up: by value. */
export interface StageKeys {
  usage: StageUsage;
  byValue: Map<string, { id: string; name: string; plan: UsagePlan }>;
}

export interface AccessGateDeps {
  invoker: Invoker;
  clock: Clock;
  logger: Logger;
  region: string;
  jwks: JwksCache;
  /** SigV4 for `execute-api` (createRequestVerifier with that service). */
  verifyIam: RequestVerifier;
  scopeOf(id: string): Promise<AccessKeyScope | undefined>;
  limiter: UsageLimiter;
  /** The platform's user pools, for REST cognito_user_pools authorizers. */
  userPools?: UserPoolKeySource;
}

export class AccessGate {
  readonly #deps: AccessGateDeps;
  readonly #lambda: LambdaAuthorizerRunner;
  readonly #cognito: CognitoAuthorizerVerifier | undefined;
  #stages = new Map<string, StageKeys>();

  constructor(deps: AccessGateDeps) {
    this.#deps = deps;
    this.#cognito =
      deps.userPools && new CognitoAuthorizerVerifier({ pools: deps.userPools, clock: deps.clock });
    this.#lambda = new LambdaAuthorizerRunner({
      invoker: deps.invoker,
      clock: deps.clock,
      region: deps.region,
    });
  }

  /** Swapped whole when a deployment lands, with the route table. */
  setStageKeys(stages: Map<string, StageKeys>): void {
    this.#stages = stages;
    this.#lambda.clear();
  }

  async check(
    access: RouteAccess,
    req: GatewayRequest,
    raw: IncomingMessage,
  ): Promise<AccessResult> {
    const { route } = req.match;
    const rest = route.kind === 'http';
    const granted: GrantedAccess = {};
    let usageKey: string | undefined;
    const refuse = (response: GatewayResponse, reason: string, level: 'info' | 'warn' = 'info') => {
      this.#deps.logger[level](
        {
          function: route.functionName,
          route: route.routeKey,
          requestId: req.requestId,
          authorizer: access.authorizer?.type,
          reason,
        },
        'request refused by route access control',
      );
      return { ok: false as const, response };
    };
    const authorizer = access.authorizer;
    if (authorizer?.type === 'jwt') {
      const outcome = await verifyJwt(
        authorizer,
        identityOf(authorizer.identitySource, req),
        this.#deps,
      );
      if (!outcome.ok) {
        return refuse(outcome.status === 401 ? unauthorized() : forbiddenV2(), outcome.reason);
      }
      granted.authorizer = { jwt: { claims: outcome.claims, scopes: outcome.scopes } };
    } else if (authorizer?.type === 'cognito') {
      if (!this.#cognito) return refuse(unauthorized(), 'user pools are not wired', 'warn');
      const outcome = await this.#cognito.verify(
        authorizer,
        identityOf(authorizer.identitySource, req),
      );
      if (!outcome.ok) return refuse(unauthorized(), outcome.reason);
      granted.authorizer = { claims: outcome.claims };
    } else if (authorizer?.type === 'lambda') {
      const identity = authorizer.identitySources.map((s) => identityOf(s, req));
      const outcome = await this.#lambda.authorize(authorizer, req, identity);
      if (!outcome.ok) {
        switch (outcome.kind) {
          case 'unauthorized':
            return refuse(unauthorized(), outcome.reason);
          case 'forbidden':
            return refuse(forbiddenV2(), outcome.reason);
          case 'deny':
            return refuse(restDenied(true), outcome.reason);
          case 'not-allowed':
            return refuse(restDenied(false), outcome.reason);
          default:
            return refuse(rest ? authorizerFailedV1() : internalV2(), outcome.reason, 'warn');
        }
      }
      usageKey = outcome.usageIdentifierKey;
      if (rest) {
        granted.authorizer = {
          principalId: outcome.principalId,
          integrationLatency: 0,
          ...outcome.context,
        };
      } else {
        granted.authorizer = { lambda: outcome.context };
      }
    } else if (authorizer?.type === 'iam') {
      const outcome = await verifyIam(raw, req.body, {
        verify: this.#deps.verifyIam,
        scopeOf: this.#deps.scopeOf,
      });
      if (!outcome.ok) return refuse(iamRefused(outcome.type, outcome.message), outcome.message);
      const write = !['GET', 'HEAD', 'OPTIONS'].includes(req.method);
      const target = { ...route, write };
      if (!scopeAllows(outcome.scope, target)) {
        const arn = methodArnOf(req, this.#deps.region, rest ? route.stage : '$default');
        return refuse(
          iamRefused(
            'AccessDeniedException',
            `User: ${userArn(outcome.accessKeyId)} is not authorized to perform: execute-api:Invoke on resource: ${arn}`,
          ),
          `access key ${outcome.accessKeyId} is scoped away from this route`,
        );
      }
      const id = outcome.accessKeyId;
      if (rest) {
        granted.identity = {
          accessKey: id,
          accountId: ACCOUNT_ID,
          caller: id,
          user: id,
          userArn: userArn(id),
        };
      } else {
        granted.authorizer = {
          iam: {
            accessKey: id,
            accountId: ACCOUNT_ID,
            callerId: id,
            cognitoIdentity: null,
            principalOrgId: null,
            userArn: userArn(id),
            userId: id,
          },
        };
      }
    }
    if (access.apiKeyRequired) {
      const stage = this.#stages.get(`${route.service}/${route.stage}`);
      const value = stage?.usage.keySource === 'AUTHORIZER' ? usageKey : header(req, 'x-api-key');
      const key = value === undefined ? undefined : stage?.byValue.get(value);
      if (!key)
        return refuse(forbiddenV1(), value === undefined ? 'no x-api-key' : 'unknown API key');
      const verdict = await this.#deps.limiter.admit(key.id, key.plan);
      if (verdict === 'throttled')
        return refuse(tooMany('Too Many Requests'), `API key ${key.name} throttled`);
      if (verdict === 'quota')
        return refuse(tooMany('Limit Exceeded'), `API key ${key.name} over its quota`);
      granted.identity = { ...granted.identity, apiKey: value!, apiKeyId: key.id };
    }
    return { ok: true, granted };
  }
}

function userArn(accessKeyId: string): string {
  return `arn:aws:iam::${ACCOUNT_ID}:user/${accessKeyId}`;
}

/** A header's value (repeats joined by `,`) or a query value (the last), as API Gateway reads them. */
function identityOf(source: IdentitySource, req: GatewayRequest): string | undefined {
  if (source.from === 'header') return header(req, source.name);
  let found: string | undefined;
  for (const [name, value] of parseQuery(req.rawQuery)) if (name === source.name) found = value;
  return found;
}

function header(req: GatewayRequest, lowerName: string): string | undefined {
  let found: string | undefined;
  const raw = req.headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === lowerName) {
      found = found === undefined ? raw[i + 1]! : `${found},${raw[i + 1]}`;
    }
  }
  return found;
}

function answer(status: number, body: string, errorType?: string): GatewayResponse {
  const headers: [string, string][] = [['content-type', 'application/json']];
  if (errorType) headers.push(['x-amzn-errortype', errorType]);
  return { statusCode: status, headers, body: Buffer.from(body) };
}

const unauthorized = () => answer(401, '{"message":"Unauthorized"}', 'UnauthorizedException');
const forbiddenV2 = () => answer(403, '{"message":"Forbidden"}');
const forbiddenV1 = () => answer(403, '{"message":"Forbidden"}', 'ForbiddenException');
const internalV2 = () => answer(500, '{"message":"Internal Server Error"}');
const authorizerFailedV1 = () =>
  answer(500, '{"message": null}', 'AuthorizerConfigurationException');
const tooMany = (message: string) =>
  answer(429, JSON.stringify({ message }), 'TooManyRequestsException');

function restDenied(explicit: boolean): GatewayResponse {
  const message = explicit
    ? 'User is not authorized to access this resource with an explicit deny'
    : 'User is not authorized to access this resource';
  return answer(403, JSON.stringify({ Message: message }), 'AccessDeniedException');
}

function iamRefused(type: string, message: string): GatewayResponse {
  const body = type === 'AccessDeniedException' ? { Message: message } : { message };
  return answer(403, JSON.stringify(body), type);
}
