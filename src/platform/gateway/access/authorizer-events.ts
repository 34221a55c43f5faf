/**
 * The events a Lambda authorizer receives, field for field as API Gateway sends them: REST TOKEN
 * (`{type, authorizationToken, methodArn}`), REST REQUEST and HTTP API payload 1.0 (the proxy
 * event without its body, plus `type` and `methodArn`), HTTP API payload 2.0 (the 2.0 event
 * without its body, plus `type`, `routeArn` and `identitySource`).
 */
import { buildEventV1 } from '../event-v1.js';
import { buildEventV2 } from '../event-v2.js';
import { ACCOUNT_ID, type GatewayRequest } from '../gateway-request.js';
import type { LambdaAuthorizer } from './route-access.js';

/** `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`, path without its `/`. */
export function methodArnOf(req: GatewayRequest, region: string, stage: string): string {
  const { route } = req.match;
  const path = req.match.path.replace(/^\//, '');
  return `arn:aws:execute-api:${region}:${ACCOUNT_ID}:${route.service}-${route.stage}/${stage}/${req.method}/${path}`;
}

export function authorizerEvent(
  config: LambdaAuthorizer,
  req: GatewayRequest,
  identity: string[],
  region: string,
): unknown {
  if (config.api === 'http' && config.token) {
    return {
      type: 'TOKEN',
      authorizationToken: identity[0],
      methodArn: methodArnOf(req, region, req.match.route.stage),
    };
  }
  if (config.api === 'http' || config.payloadVersion === '1.0') {
    const stage = config.api === 'http' ? req.match.route.stage : '$default';
    const {
      body: _body,
      isBase64Encoded: _encoded,
      ...event
    } = buildEventV1(config.api === 'http' ? req : { ...req, stage });
    return {
      ...(config.api === 'httpApi' ? { version: '1.0' } : {}),
      type: 'REQUEST',
      methodArn: methodArnOf(req, region, stage),
      ...(config.api === 'httpApi'
        ? { identitySource: identity.join(','), authorizationToken: identity[0] }
        : {}),
      ...event,
    };
  }
  const { body: _body, isBase64Encoded: _encoded, ...event } = buildEventV2(req);
  return {
    type: 'REQUEST',
    routeArn: methodArnOf(req, region, '$default'),
    identitySource: identity,
    ...event,
  };
}
