import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isAccessKeyId } from '../../src/platform/auth/access-key-store.js';
import { KyselyAccessKeyStore } from '../../src/platform/auth/kysely-access-key-store.js';
import { loadOrCreateMasterKey, MasterKeyError } from '../../src/platform/auth/master-key.js';
import { SealedSecretError } from '../../src/platform/auth/secret-box.js';
import { databaseVariants, type OpenedDatabase } from '../helpers/store-variants.js';
import { makeTempDir } from '../helpers/temp-dir.js';

for (const variant of databaseVariants)
  describe(`access keys on ${variant.name}`, () => {
    let opened: OpenedDatabase;
    let now = Date.UTC(2026, 1, 1);
    const clock = { now: () => now };
    const masterKey = randomBytes(32);
    let keys: KyselyAccessKeyStore;

    before(async () => {
      opened = await variant.open();
      keys = new KyselyAccessKeyStore(opened.db, masterKey, clock);
    });
    after(() => opened.cleanup());

    test('create returns the id and the secret once; the secret opens again for verification', async () => {
      const created = await keys.create({ description: 'ci pipeline' });
      assert.ok(isAccessKeyId(created.id), created.id);
      assert.match(created.id, /^NIMB[A-Z0-9]{16}$/);
      assert.match(created.secret, /^[A-Za-z0-9+/]{40}$/);
      assert.equal(created.createdAt, new Date(now).toISOString());
      assert.equal(created.description, 'ci pipeline');
      assert.equal(await keys.findSecret(created.id), created.secret);
    });

    test('list shows ids, times and descriptions, never a secret', async () => {
      now += 1000;
      const second = await keys.create();
      const listed = await keys.list();
      assert.equal(listed.at(-1)!.id, second.id);
      assert.ok(listed.length >= 2);
      for (const key of listed) {
        assert.deepEqual(Object.keys(key).sort().includes('secret'), false);
        assert.ok(!JSON.stringify(key).includes(second.secret));
      }
      assert.deepEqual(listed.at(-1), { id: second.id, createdAt: new Date(now).toISOString() });
    });

    test('markUsed records the last use', async () => {
      const key = await keys.create();
      await keys.markUsed(key.id, now + 5000);
      const listed = (await keys.list()).find((k) => k.id === key.id);
      assert.equal(listed?.lastUsedAt, new Date(now + 5000).toISOString());
    });

    test('delete removes the key; a second delete and unknown ids report false', async () => {
      const key = await keys.create();
      assert.equal(await keys.delete(key.id), true);
      assert.equal(await keys.delete(key.id), false);
      assert.equal(await keys.findSecret(key.id), undefined);
      assert.equal(await keys.findSecret('NIMBNOSUCHKEY0000000'), undefined);
      assert.equal(await keys.findSecret("x' or 1=1 --"), undefined);
      assert.ok(!(await keys.list()).some((k) => k.id === key.id));
    });

    test('secrets are encrypted at rest: the row holds no trace of the secret', async () => {
      const key = await keys.create();
      const row = await opened.db
        .selectFrom('access_keys')
        .selectAll()
        .where('id', '=', key.id)
        .executeTakeFirstOrThrow();
      const rowText = JSON.stringify(row);
      assert.ok(!rowText.includes(key.secret));
      assert.ok(!rowText.includes(Buffer.from(key.secret).toString('base64')));
      assert.ok(!rowText.includes(Buffer.from(key.secret).toString('hex')));
      assert.match(row.sealed_secret, /^v1\./);
      if (opened.file) {
        // Every byte SQLite keeps on disk: the database file and its WAL.
        const bytes = Buffer.concat(
          await Promise.all(
            [opened.file, `${opened.file}-wal`].map((f) =>
              readFile(f).catch(() => Buffer.alloc(0)),
            ),
          ),
        );
        assert.ok(bytes.includes(Buffer.from(key.id)), 'the id is on disk, so the file was read');
        assert.ok(!bytes.includes(Buffer.from(key.secret)), 'the secret is not on disk');
      }
    });

    test('another master key cannot open the secrets; a swapped sealed secret does not open', async () => {
      const key = await keys.create();
      const other = new KyselyAccessKeyStore(opened.db, randomBytes(32), clock);
      await assert.rejects(other.findSecret(key.id), SealedSecretError);

      // A sealed secret is bound to its key id: copying it onto another row does not work.
      const victim = await keys.create();
      const sealed = await opened.db
        .selectFrom('access_keys')
        .select('sealed_secret')
        .where('id', '=', key.id)
        .executeTakeFirstOrThrow();
      await opened.db
        .updateTable('access_keys')
        .set({ sealed_secret: sealed.sealed_secret })
        .where('id', '=', victim.id)
        .execute();
      await assert.rejects(keys.findSecret(victim.id), SealedSecretError);
    });
  });

describe('master key', () => {
  test('generated on first start (0600), the same on the next, and only 32 bytes', async () => {
    const tmp = await makeTempDir();
    try {
      const dataDir = join(tmp.dir, 'data');
      const first = await loadOrCreateMasterKey(dataDir, undefined);
      assert.equal(first.source, 'generated');
      assert.equal(first.key.length, 32);
      assert.equal(first.file, join(dataDir, 'master-key'));
      assert.equal((await stat(first.file)).mode & 0o777, 0o600);
      const again = await loadOrCreateMasterKey(dataDir, undefined);
      assert.equal(again.source, 'file');
      assert.deepEqual(again.key, first.key);

      await writeFile(first.file, 'too-short\n');
      await assert.rejects(loadOrCreateMasterKey(dataDir, undefined), MasterKeyError);
    } finally {
      await tmp.cleanup();
    }
  });

  test('NIMBUS_MASTER_KEY wins, as base64 or hex; anything else is refused', async () => {
    const tmp = await makeTempDir();
    try {
      const raw = randomBytes(32);
      for (const text of [raw.toString('base64'), raw.toString('hex'), raw.toString('base64url')]) {
        const loaded = await loadOrCreateMasterKey(tmp.dir, text);
        assert.equal(loaded.source, 'env');
        assert.deepEqual(loaded.key, raw);
      }
      for (const bad of ['secret', randomBytes(16).toString('base64'), 'z'.repeat(64)]) {
        await assert.rejects(loadOrCreateMasterKey(tmp.dir, bad), MasterKeyError);
      }
    } finally {
      await tmp.cleanup();
    }
  });

  test('two servers starting at once end up with one key', async () => {
    const tmp = await makeTempDir();
    try {
      const [a, b] = await Promise.all([
        loadOrCreateMasterKey(tmp.dir, undefined),
        loadOrCreateMasterKey(tmp.dir, undefined),
      ]);
      assert.deepEqual(a.key, b.key);
    } finally {
      await tmp.cleanup();
    }
  });
});
