import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import pino from 'pino';
import { StageChangeFeed, stageChannel } from '../../src/platform/cluster/stage-change-feed.js';
import type { StageKey } from '../../src/platform/reconcile/stage-reconciler.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import type { Database } from '../../src/store/schema.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { waitUntil } from '../helpers/wait-for.js';
import { deploymentRow } from '../store/store-fixtures.js';
import { FakeClock, FakeTimer } from '../triggers/fakes.js';

describe('StageChangeFeed (PostgreSQL LISTEN/NOTIFY)', () => {
  let db: Kysely<Database>;
  let pg: Awaited<ReturnType<typeof makeTestSchema>>;
  before(async () => {
    pg = await makeTestSchema();
    db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
  });
  after(async () => {
    await db.destroy();
    await pg.drop();
  });

  test('a publish reaches the other node, not its own; the check finds an unpublished deploy; a lost connection comes back', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const timer = new FakeTimer(clock);
    const seen: Record<string, string[]> = { a: [], b: [] };
    const feeds = ['a', 'b'].map(
      (node) =>
        new StageChangeFeed({
          db,
          url: pg.url,
          schema: pg.schema,
          nodeName: node,
          changed: async (k: StageKey) => {
            seen[node]!.push(`${k.service}/${k.stage}`);
          },
          logger: pino({ level: 'silent' }),
          timer,
        }),
    );
    const [a, b] = feeds as [StageChangeFeed, StageChangeFeed];
    try {
      for (const f of feeds) await f.start();
      await a.publish({ service: 'svc', stage: 'dev' });
      await waitUntil(() => seen.b!.length === 1, 'node b to hear of the change');
      assert.deepEqual(seen, { a: [], b: ['svc/dev'] });

      // A deploy whose notification never went out (its node died after the commit).
      const store = new KyselyStore(db);
      await store.transaction(async (tx) => {
        const s = await tx.upsertStage({ service: 'quiet', stage: 'prod', region: 'r', now: 'n' });
        await tx.insertDeployment(deploymentRow('quiet-prod-d1', s.id, 1_000));
      });
      await b.check();
      assert.deepEqual(seen.b, ['svc/dev', 'quiet/prod']);
      await b.check();
      assert.deepEqual(seen.b, ['svc/dev', 'quiet/prod'], 'reported once');

      // PostgreSQL drops b's LISTEN connection; b reconnects (its timer) and listens again.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity
        where query = ${`LISTEN "${stageChannel(pg.schema)}"`} and application_name = ''`.execute(
        db,
      );
      await new Promise((r) => setTimeout(r, 200));
      await timer.advanceTo('2026-01-01T00:00:02Z', async () => {
        await new Promise((r) => setTimeout(r, 200));
      });
      await a.publish({ service: 'svc', stage: 'prod' });
      await waitUntil(
        () => seen.b!.includes('svc/prod'),
        'node b to hear again after reconnecting',
      );
    } finally {
      for (const f of feeds) await f.stop();
    }
  });
});
