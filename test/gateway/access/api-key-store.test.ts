import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { KyselyAccessKeyStore } from '../../../src/platform/auth/kysely-access-key-store.js';
import { KyselyApiKeyStore } from '../../../src/platform/gateway/access/kysely-api-key-store.js';
import { databaseVariants, type OpenedDatabase } from '../../helpers/store-variants.js';

for (const variant of databaseVariants)
  describe(`API keys, quotas and key scopes on ${variant.name}`, () => {
    let opened: OpenedDatabase;
    const clock = { now: () => Date.UTC(2026, 1, 1) };
    const masterKey = randomBytes(32);
    let apiKeys: KyselyApiKeyStore;

    before(async () => {
      opened = await variant.open();
      apiKeys = new KyselyApiKeyStore(opened.db, masterKey, clock);
    });
    after(() => opened.cleanup());

    test('sync keeps generated values, takes given ones, drops removed keys; values are sealed', async () => {
      await apiKeys.sync('svc', 'dev', [
        { name: 'a', plan: 'default' },
        { name: 'b', plan: 'default', value: 'b'.repeat(24), description: 'bee' },
      ]);
      const first = await apiKeys.list('svc', 'dev');
      assert.deepEqual(
        first.map((k) => k.name),
        ['a', 'b'],
      );
      assert.equal(first[0]!.value.length, 40);
      await apiKeys.sync('svc', 'dev', [
        { name: 'a', plan: 'default' },
        { name: 'b', plan: 'default', value: 'c'.repeat(24) },
      ]);
      const second = await apiKeys.list('svc', 'dev');
      assert.equal(second[0]!.value, first[0]!.value, 'generated value kept');
      assert.equal(second[1]!.value, 'c'.repeat(24));
      assert.equal(second[1]!.description, undefined);
      const raw = await opened.db.selectFrom('api_keys').select('sealed_value').execute();
      assert.ok(
        raw.every((r) => !r.sealed_value.includes(first[0]!.value)),
        'not in clear',
      );
      await apiKeys.sync('svc', 'dev', [{ name: 'b', plan: 'default' }]);
      assert.deepEqual(
        (await apiKeys.list('svc', 'dev')).map((k) => k.name),
        ['b'],
      );
    });

    test('a quota never counts past its limit, even under concurrent requests', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => apiKeys.take('k1', '2026-02-01', 7)),
      );
      assert.equal(results.filter(Boolean).length, 7);
      assert.equal(await apiKeys.used('k1', '2026-02-01'), 7);
      assert.equal(await apiKeys.take('k1', '2026-02-02', 7), true, 'a new period starts at 1');
    });

    test('access key scopes are stored and read back', async () => {
      const keys = new KyselyAccessKeyStore(opened.db, masterKey, clock);
      const open = await keys.create();
      const scoped = await keys.create({
        scope: { service: 's', functions: ['a', 'b'], readOnly: true },
      });
      assert.equal(open.scope, undefined);
      assert.deepEqual(scoped.scope, { service: 's', functions: ['a', 'b'], readOnly: true });
      assert.equal(await keys.scopeOf(open.id), undefined);
      assert.deepEqual(await keys.scopeOf(scoped.id), scoped.scope);
      assert.deepEqual((await keys.list()).find((k) => k.id === scoped.id)?.scope, scoped.scope);
    });
  });
