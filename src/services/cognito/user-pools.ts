/**
 * The user-pools part as the composition root wires it: the AWS JSON service, the public
 * `.well-known` documents, and the outbox route of the control API, over one store.
 */
import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../../model/clock.js';
import type { CallerScopes } from '../../platform/auth/caller-scopes.js';
import type { RequestVerifier } from '../../platform/auth/request-verifier.js';
import type { OwnerLookup } from '../../platform/auth/resource-access.js';
import type { Mailer } from '../../platform/mail/smtp-mailer.js';
import type { CognitoDeps } from './cognito-call.js';
import { createCognitoService } from './cognito-service.js';
import { CognitoStore } from './cognito-store.js';
import { userPoolsRoutes } from './outbox-routes.js';
import { PasswordHasher } from './passwords.js';
import { defaultIpLimits, type IpLimit, IpThrottle } from './throttles.js';
import { TokenKeys } from './token-keys.js';
import { issuerOf } from './tokens.js';
import { PoolTriggers } from './triggers.js';
import { userPoolClientProvisioner, userPoolProvisioner } from './user-pool-provisioner.js';
import { createWellKnownHandler, isUserPoolWellKnownPath } from './well-known.js';

export interface UserPoolsOptions {
  db: unknown;
  masterKey: Buffer;
  clock: Clock;
  region: string;
  /** `http://host:port` as clients reach the platform (token issuers). */
  platformUrl: () => string;
  verify: RequestVerifier;
  /** The shared scope lookup and owner records (docs/security.md). */
  scopeOf?: CallerScopes;
  owners?: OwnerLookup;
  ipLimits?: Record<'signIn' | 'send', IpLimit>;
  /** Runs trigger functions; none: a pool with triggers fails its steps. */
  triggers?: PoolTriggers;
  /** SMTP delivery of email; none: the outbox. */
  mailer?: Mailer;
  onError?: (error: unknown) => void;
}

export function createUserPools(opts: UserPoolsOptions) {
  const store = new CognitoStore(opts.db);
  const keys = new TokenKeys({ store, masterKey: opts.masterKey, clock: opts.clock });
  const triggers = opts.triggers ?? new PoolTriggers({ region: opts.region });
  const deps: CognitoDeps = {
    store,
    keys,
    clock: opts.clock,
    platformUrl: opts.platformUrl,
    region: opts.region,
    masterKey: opts.masterKey,
    hasher: new PasswordHasher(),
    throttle: new IpThrottle(opts.ipLimits ?? defaultIpLimits),
    triggers,
    ...(opts.mailer ? { mailer: opts.mailer } : {}),
  };
  return {
    store,
    keys,
    /** For the stage reconciler: `cognitoUserPool` events on existing pools. */
    triggers,
    service: createCognitoService({
      deps,
      verify: opts.verify,
      ...(opts.scopeOf ? { scopeOf: opts.scopeOf } : {}),
      ...(opts.owners ? { owners: opts.owners } : {}),
      ...(opts.onError ? { onError: opts.onError } : {}),
    }),
    wellKnown: {
      matches: isUserPoolWellKnownPath,
      handle: createWellKnownHandler({ store, keys, platformUrl: opts.platformUrl }),
    },
    routes: userPoolsRoutes(store),
    /** For the gateway's cognito_user_pools authorizers: a pool's issuer and published keys. */
    tokenKeys: {
      keysOf: async (poolId: string) => {
        if (!(await store.findPool(poolId))) return undefined;
        return {
          issuer: issuerOf(opts.platformUrl(), poolId),
          jwks: (await keys.jwks(poolId)) as unknown as JSONWebKeySet,
        };
      },
    },
    /** For the resources registry (wired in server.ts with the evaluator). */
    provisioners: [
      userPoolProvisioner({ store, keys, masterKey: opts.masterKey, clock: opts.clock }),
      userPoolClientProvisioner({ store, keys, masterKey: opts.masterKey, clock: opts.clock }),
    ],
  };
}
