/**
 * The AWS::Cognito::UserPool and ::UserPoolClient provisioners against the fixed contract, on a
 * migrated SQLite store: attributes from properties alone (stable ids, ProviderURL, Arn),
 * idempotent apply, updates, refusals of what is not honoured, removal.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import {
  ResourcePropertyError,
  type ResourceScope,
} from '../../../src/platform/aws/resources/provisioner.js';
import { CognitoStore } from '../../../src/services/cognito/cognito-store.js';
import { TokenKeys } from '../../../src/services/cognito/token-keys.js';
import {
  userPoolClientProvisioner,
  userPoolProvisioner,
} from '../../../src/services/cognito/user-pool-provisioner.js';
import { openSqliteDatabase } from '../../../src/store/sqlite.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const scope: ResourceScope = {
  service: 'todo',
  stage: 'dev',
  region: 'us-east-1',
  accountId: '000000000000',
  platformUrl: 'http://127.0.0.1:8642',
};

describe('user pool provisioners', () => {
  let db: Kysely<unknown>;
  let store: CognitoStore;
  let cleanup: () => Promise<void>;
  let pools: ReturnType<typeof userPoolProvisioner>;
  let clients: ReturnType<typeof userPoolClientProvisioner>;

  before(async () => {
    const tmp = await makeTempDir();
    db = (await openSqliteDatabase({ file: join(tmp.dir, 'n.db') })) as unknown as Kysely<unknown>;
    store = new CognitoStore(db);
    const clock = { now: () => Date.now() };
    const masterKey = randomBytes(32);
    const keys = new TokenKeys({ store, masterKey, clock });
    pools = userPoolProvisioner({ store, keys, masterKey, clock });
    clients = userPoolClientProvisioner({ store, keys, masterKey, clock });
    cleanup = async () => {
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(() => cleanup());

  const pool = {
    logicalId: 'UserPool',
    type: 'AWS::Cognito::UserPool',
    properties: {
      UserPoolName: 'todo-users',
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      Policies: { PasswordPolicy: { MinimumLength: 12 } },
      MfaConfiguration: 'OFF',
      UserPoolAddOns: { AdvancedSecurityMode: 'OFF' },
    },
  };

  test('attributes come from the properties alone and are stable', () => {
    const a = pools.attributes(scope, pool);
    assert.match(a.ref, /^us-east-1_[0-9A-Za-z]{9}$/);
    assert.equal(a.physicalId, a.ref);
    assert.deepEqual(pools.attributes(scope, pool), a);
    assert.equal(a.attributes.ProviderURL, `http://127.0.0.1:8642/${a.ref}`);
    assert.equal(a.attributes.ProviderName, `127.0.0.1:8642/${a.ref}`);
    assert.equal(a.attributes.Arn, `arn:aws:cognito-idp:us-east-1:000000000000:userpool/${a.ref}`);
    const other = pools.attributes({ ...scope, stage: 'prod' }, pool);
    assert.notEqual(other.ref, a.ref);
  });

  test('apply creates the pool with a signing key, again changes nothing, then updates', async () => {
    const first = await pools.apply(scope, pool, undefined);
    const row = await store.findPool(first.physicalId);
    assert.equal(row?.name, 'todo-users');
    const config = (row?.config ?? {}) as {
      Policies: { PasswordPolicy: { MinimumLength: number } };
    };
    assert.equal(config.Policies.PasswordPolicy.MinimumLength, 12);
    assert.equal((await store.listKeys(first.physicalId)).length, 1);
    const again = await pools.apply(scope, pool, first);
    assert.deepEqual(again, first);
    assert.equal((await store.listKeys(first.physicalId)).length, 1, 'no new key on re-apply');
    await pools.apply(
      scope,
      { ...pool, properties: { ...pool.properties, UserPoolName: 'renamed' } },
      first,
    );
    assert.equal((await store.findPool(first.physicalId))?.name, 'renamed');
  });

  test('a client: Ref is its id, GenerateSecret keeps one sealed secret, removal deletes it', async () => {
    const poolId = pools.attributes(scope, pool).ref;
    const decl = {
      logicalId: 'WebClient',
      type: 'AWS::Cognito::UserPoolClient',
      properties: {
        UserPoolId: poolId,
        ClientName: 'web',
        GenerateSecret: true,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        PreventUserExistenceErrors: 'ENABLED',
        AccessTokenValidity: 15,
        TokenValidityUnits: { AccessToken: 'minutes' },
      },
    };
    const attrs = clients.attributes(scope, decl);
    assert.match(attrs.ref, /^[a-z0-9]{26}$/);
    assert.equal(attrs.attributes.ClientId, attrs.ref);
    const applied = await clients.apply(scope, decl, undefined);
    const row = await store.findClient(applied.physicalId);
    assert.equal(row?.poolId, poolId);
    assert.ok(row?.sealedSecret?.startsWith('v1.'));
    await clients.apply(scope, decl, applied);
    assert.equal((await store.findClient(applied.physicalId))?.sealedSecret, row?.sealedSecret);
    assert.deepEqual(await clients.remove(scope, applied), { removed: true });
    assert.equal(await store.findClient(applied.physicalId), undefined);
  });

  test('what is not honoured is refused with the property named', async () => {
    const refused = (run: () => unknown, property: string) =>
      assert.throws(
        run,
        (e: unknown) => e instanceof ResourcePropertyError && e.property === property,
      );
    refused(
      () =>
        pools.attributes(scope, {
          ...pool,
          properties: { ...pool.properties, LambdaConfig: { UserMigration: 'x' } },
        }),
      'Properties',
    );
    refused(
      () =>
        pools.attributes(scope, {
          ...pool,
          properties: { ...pool.properties, MfaConfiguration: 'ON' },
        }),
      'Properties',
    );
    refused(
      () => pools.attributes(scope, { ...pool, properties: { ...pool.properties, Bogus: 1 } }),
      'Properties.Bogus',
    );
    refused(
      () =>
        clients.attributes(scope, {
          logicalId: 'C',
          type: 'AWS::Cognito::UserPoolClient',
          properties: {},
        }),
      'Properties.UserPoolId',
    );
    await assert.rejects(
      clients.apply(
        scope,
        {
          logicalId: 'C',
          type: 'AWS::Cognito::UserPoolClient',
          properties: { UserPoolId: 'us-east-1_missing00' },
        },
        undefined,
      ),
      ResourcePropertyError,
    );
  });

  test('removing the pool deletes it with its keys', async () => {
    const attrs = pools.attributes(scope, pool);
    const applied = await pools.apply(scope, pool, undefined);
    assert.deepEqual(await pools.remove(scope, applied), { removed: true });
    assert.equal(await store.findPool(attrs.physicalId), undefined);
    assert.equal((await store.listKeys(attrs.physicalId)).length, 0);
  });
});
