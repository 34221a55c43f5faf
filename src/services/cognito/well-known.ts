/**
 * `<platform URL>/<poolId>/.well-known/jwks.json` and `.../openid-configuration`: a pool's
 * public keys and OpenID discovery document, public as Cognito's are, so any JWT verifier
 * (the gateway's JWT authorizer, aws-jwt-verify, jose) trusts its tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../../platform/http/send.js';
import type { CognitoStore } from './cognito-store.js';
import type { TokenKeys } from './token-keys.js';
import { issuerOf } from './tokens.js';

const wellKnownPath = /^\/([\w-]+_[0-9a-zA-Z]+)\/\.well-known\/(jwks\.json|openid-configuration)$/;

export function isUserPoolWellKnownPath(path: string): boolean {
  return wellKnownPath.test(path);
}

export function createWellKnownHandler(deps: {
  store: CognitoStore;
  keys: TokenKeys;
  platformUrl: () => string;
}) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const m = wellKnownPath.exec(path);
    const pool = m && (await deps.store.findPool(m[1]!));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { message: 'Method Not Allowed' });
      return;
    }
    if (!m || !pool) {
      sendJson(res, 404, { message: 'User pool not found' });
      return;
    }
    const cache = { 'cache-control': 'public, max-age=300' };
    if (m[2] === 'jwks.json') {
      sendJson(res, 200, await deps.keys.jwks(pool.id), cache);
      return;
    }
    const issuer = issuerOf(deps.platformUrl(), pool.id);
    sendJson(
      res,
      200,
      {
        issuer,
        jwks_uri: `${issuer}/.well-known/jwks.json`,
        response_types_supported: ['code', 'token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid', 'email', 'phone', 'profile'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        claims_supported: [
          'sub',
          'iss',
          'aud',
          'email',
          'email_verified',
          'cognito:username',
          'cognito:groups',
        ],
      },
      cache,
    );
  };
}
