/** Functions' session credentials: scoped, token-bound, rotated for new instances, expiring. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { KyselyAccessKeyStore } from '../../src/platform/auth/kysely-access-key-store.js';
import {
  credentialLookup,
  defaultSessionLifetimeMs,
  defaultSessionRefreshAfterMs,
  maxInstanceAgeMs,
  SessionCredentialStore,
} from '../../src/platform/auth/session-credentials.js';
import { databaseVariants, type OpenedDatabase } from '../helpers/store-variants.js';

for (const variant of databaseVariants) {
  describe(`session credentials on ${variant.name}`, () => {
    let opened: OpenedDatabase;
    let now = Date.UTC(2026, 1, 1);
    const clock = { now: () => now };
    const masterKey = randomBytes(32);
    let sessions: SessionCredentialStore;

    before(async () => {
      opened = await variant.open();
      sessions = new SessionCredentialStore({
        db: opened.db,
        masterKey,
        clock,
        lifetimeMs: 10_000,
        refreshAfterMs: 2_000,
      });
    });
    after(() => opened.cleanup());

    test('verify only with their own token, until they expire; scoped to their stage', async () => {
      const c = await sessions.issue({ service: 'svc', stage: 'dev' });
      assert.match(c.accessKeyId, /^NIMS[A-Z0-9]{16}$/);
      assert.equal(await sessions.findSecret(c.accessKeyId, c.sessionToken), c.secretAccessKey);
      assert.equal(await sessions.findSecret(c.accessKeyId, undefined), undefined);
      assert.equal(await sessions.findSecret(c.accessKeyId, `${c.sessionToken}x`), undefined);
      assert.deepEqual(await sessions.scopeOf(c.accessKeyId), { service: 'svc', stage: 'dev' });
      const lookup = credentialLookup(
        new KyselyAccessKeyStore(opened.db, masterKey, clock),
        sessions,
      );
      assert.equal(await lookup.findSecret(c.accessKeyId, c.sessionToken), c.secretAccessKey);
      assert.deepEqual(await lookup.scopeOf(c.accessKeyId), { service: 'svc', stage: 'dev' });
      now += 10_000;
      assert.equal(await sessions.findSecret(c.accessKeyId, c.sessionToken), undefined);
      assert.ok((await sessions.purgeExpired()) >= 1);
      assert.equal(await sessions.scopeOf(c.accessKeyId), undefined);
    });

    test('a purged set stays refused, even with a clock set back (nothing remembered survives)', async () => {
      const c = await sessions.issue({ service: 'svc', stage: 'dev' });
      assert.equal(await sessions.findSecret(c.accessKeyId, c.sessionToken), c.secretAccessKey);
      assert.equal(await sessions.findSecret(c.accessKeyId, c.sessionToken), c.secretAccessKey);
      now += 10_000;
      assert.ok((await sessions.purgeExpired()) >= 1);
      now -= 10_000;
      assert.equal(await sessions.findSecret(c.accessKeyId, c.sessionToken), undefined);
    });

    test('new instances share a set while it is fresh, then get a new one; stages never share', async () => {
      const a = await sessions.forInstance({ service: 'svc', stage: 'dev' });
      const [b, c] = await Promise.all([
        sessions.forInstance({ service: 'svc', stage: 'dev' }),
        sessions.forInstance({ service: 'svc', stage: 'dev' }),
      ]);
      assert.equal(b.accessKeyId, a.accessKeyId);
      assert.equal(c.accessKeyId, a.accessKeyId);
      const other = await sessions.forInstance({ service: 'svc', stage: 'prod' });
      assert.notEqual(other.accessKeyId, a.accessKeyId);
      now += 2_000;
      const fresh = await sessions.forInstance({ service: 'svc', stage: 'dev' });
      assert.notEqual(fresh.accessKeyId, a.accessKeyId);
      // The old set still works for the instances that hold it, until it expires.
      assert.ok(await sessions.findSecret(a.accessKeyId, a.sessionToken));
      now += 8_000;
      assert.equal(await sessions.findSecret(a.accessKeyId, a.sessionToken), undefined);
      assert.ok(await sessions.findSecret(fresh.accessKeyId, fresh.sessionToken));
    });
  });
}

test('an instance never outlives the credentials it started with', () => {
  // Issued up to an hour before the instance started, valid for twelve: the instance takes no
  // request past 10.5 hours, so its last one (at most 15 minutes) ends with time to spare.
  assert.equal(maxInstanceAgeMs(), 10.5 * 3_600_000);
  assert.ok(
    maxInstanceAgeMs() + 15 * 60_000 <= defaultSessionLifetimeMs - defaultSessionRefreshAfterMs,
  );
});
