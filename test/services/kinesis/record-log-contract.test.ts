/**
 * The Kinesis record log's contract (src/services/kinesis/record-log.ts), one suite run on every
 * adapter: the SQL log on SQLite and on PostgreSQL, and the JetStream log on the real NATS
 * server (stream metadata then in SQLite). Positions grow per shard in each caller's order under
 * concurrent appends; reads page, skip records past retention, find a time; a deleted stream's
 * records go and a re-created one starts empty; a record of 1 MiB round-trips.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NatsConnection } from 'nats';
import {
  type KinesisStore,
  KinesisStore as Store,
  StreamGoneError,
} from '../../../src/services/kinesis/kinesis-store.js';
import { NatsRecordLog } from '../../../src/services/kinesis/nats-record-log.js';
import type { KinesisRecordLog } from '../../../src/services/kinesis/record-log.js';
import { SqlRecordLog } from '../../../src/services/kinesis/sql-record-log.js';
import { createStream, deleteStream } from '../../../src/services/kinesis/stream-operations.js';
import { openDatabase } from '../../../src/store/open-store.js';
import { awsPlatformVariants } from '../../helpers/aws-platform.js';
import { connectTestNats, uniqueNatsPrefix } from '../../helpers/nats.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const hour = 3_600_000;

interface Backing {
  store: KinesisStore;
  records: KinesisRecordLog;
  /** The JetStream side, for the NATS-only checks. */
  nats?: { nc: NatsConnection; prefix: string };
  close(): Promise<void>;
}

const backings: { name: string; open(): Promise<Backing> }[] = [
  ...awsPlatformVariants.map((variant) => ({
    name: `the SQL log on ${variant.name}`,
    async open(): Promise<Backing> {
      const tmp = await makeTempDir();
      const target = await variant.databaseUrl();
      const db = await openDatabase(target.url ?? 'sqlite:', { dataDir: tmp.dir });
      return {
        store: new Store(db),
        records: new SqlRecordLog(db),
        close: async () => {
          await db.destroy();
          await target.drop();
          await tmp.cleanup();
        },
      };
    },
  })),
  {
    name: 'the JetStream log on NATS',
    async open(): Promise<Backing> {
      const tmp = await makeTempDir();
      const db = await openDatabase('sqlite:', { dataDir: tmp.dir });
      const nc = await connectTestNats();
      const prefix = uniqueNatsPrefix();
      return {
        store: new Store(db),
        records: await NatsRecordLog.open(nc, { prefix }),
        nats: { nc, prefix },
        close: async () => {
          const jsm = await nc.jetstreamManager();
          for await (const name of jsm.streams.names(`${prefix}.>`)) await jsm.streams.delete(name);
          await nc.close();
          await db.destroy();
          await tmp.cleanup();
        },
      };
    },
  },
];

const rec = (shardIndex: number, key: string, data: Buffer = Buffer.from(key)) => ({
  shardIndex,
  partitionKey: key,
  data,
});

for (const backing of backings)
  describe(`Kinesis record log: ${backing.name}`, () => {
    test('positions, order, paging, retention, time, delete and re-create', async () => {
      const b = await backing.open();
      try {
        let now = 1000;
        const clock = { now: () => now };
        const make = (name: string, retentionHours = 24, shardCount = 2) =>
          createStream(b, clock, {
            name,
            mode: 'PROVISIONED',
            shardCount,
            retentionHours,
            tags: {},
          });
        await make('a.b_c');
        await assert.rejects(make('a.b_c'), /ResourceInUse|already exists/, 'a name is taken once');
        const a = (await b.store.findStream('a.b_c'))!;
        assert.equal(await b.records.lastPosition(a, 0), 0, 'a new shard is at 0');
        assert.deepEqual(await b.records.read(a, 0, 0, 10, 0), []);

        // Ten callers at once, each putting three records in shard 0 and one in shard 1.
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, c) =>
            b.records.append(
              a,
              [rec(0, `${c}-x`), rec(1, `${c}-y`), rec(0, `${c}-z`), rec(0, `${c}-w`)],
              now,
            ),
          ),
        );
        const shard0 = await b.records.read(a, 0, 0, 100, 0);
        assert.equal(shard0.length, 30);
        const positions = shard0.map((r) => r.position);
        assert.deepEqual(
          positions,
          [...positions].sort((x, y) => x - y),
          'increasing',
        );
        assert.equal(new Set(positions).size, 30, 'distinct');
        for (const [c, got] of results.entries()) {
          const [x, y, z, w] = got;
          assert.ok(x! < z! && z! < w!, 'a caller keeps its order within a shard');
          assert.equal(shard0.find((r) => r.position === x)?.partitionKey, `${c}-x`);
          assert.equal(shard0.find((r) => r.position === w)?.data.toString(), `${c}-w`);
          assert.ok(y! > 0);
        }
        assert.ok(shard0.every((r) => r.shardIndex === 0 && r.arrivedAt === 1000));

        // Paging: small pages (direct gets) and big ones (a consumer) give the same records.
        const paged: number[] = [];
        let after = 0;
        for (const limit of [3, 20, 20]) {
          const page = await b.records.read(a, 0, after, limit, 0);
          paged.push(...page.map((r) => r.position));
          after = page.at(-1)?.position ?? after;
        }
        assert.deepEqual(paged, positions);

        const tip1 = await b.records.lastPosition(a, 1);
        assert.ok(tip1 >= Math.max(...results.map((r) => r[1]!)));
        assert.deepEqual(await b.records.read(a, 1, tip1, 10, 0), [], 'nothing after the tip');
        const tip0 = await b.records.lastPosition(a, 0);
        const [late] = await b.records.append(a, [rec(0, 'late')], 30 * hour);
        assert.ok(late! > tip0, 'after the tip: only what came later');
        assert.deepEqual(
          (await b.records.read(a, 0, tip0, 10, 0)).map((r) => r.partitionKey),
          ['late'],
        );
        // Past retention (24 h by the platform's clock): not answered, trimmed or not.
        now = 30 * hour;
        await b.records.trim(now, () => b.store.listStreams());
        assert.deepEqual(
          (await b.records.read(a, 0, 0, 100, now - 24 * hour)).map((r) => r.partitionKey),
          ['late'],
        );

        // A time: the position before the first record that arrived at or after it.
        await make('timed', 24, 1);
        const t = (await b.store.findStream('timed'))!;
        await b.records.append(t, [rec(0, 'a1'), rec(0, 'a2')], 1000);
        await b.records.append(a, [rec(0, 'other')], 1500);
        await b.records.append(t, [rec(0, 'b1')], 2000);
        await b.records.append(t, [rec(0, 'c1'), rec(0, 'c2')], 3000);
        const from = async (at: number) => {
          const p = await b.records.positionBefore(t, 0, at);
          return p === undefined
            ? undefined
            : (await b.records.read(t, 0, p, 10, 0)).map((r) => r.partitionKey);
        };
        assert.deepEqual(await from(500), ['a1', 'a2', 'b1', 'c1', 'c2']);
        assert.deepEqual(await from(1000), ['a1', 'a2', 'b1', 'c1', 'c2']);
        assert.deepEqual(await from(1500), ['b1', 'c1', 'c2']);
        assert.deepEqual(await from(2500), ['c1', 'c2']);
        assert.deepEqual(await from(3000), ['c1', 'c2']);
        assert.equal(await b.records.positionBefore(t, 0, 3001), undefined);

        // Binary data, a non-ASCII key, and a record of just under 1 MiB (with its key).
        const big = Buffer.alloc(1024 * 1024 - 16, 7);
        big[0] = 0;
        big[big.length - 1] = 255;
        const [p1, p2, p3] = await b.records.append(
          t,
          [rec(0, 'ключ\n✓', Buffer.from([0, 255, 10, 13])), rec(0, 'big', big), rec(0, 'after')],
          4000,
        );
        const got = await b.records.read(t, 0, p1! - 1, 10, 0);
        assert.deepEqual(
          got.map((r) => [r.position, r.partitionKey]),
          [
            [p1, 'ключ\n✓'],
            [p2, 'big'],
            [p3, 'after'],
          ],
        );
        assert.deepEqual(got[0]!.data, Buffer.from([0, 255, 10, 13]));
        assert.ok(got[1]!.data.equals(big), 'the big record comes back whole');

        // Delete: the records go; an append answers StreamGoneError; a new stream starts empty.
        assert.equal(await deleteStream(b, 'timed'), true);
        assert.equal(await deleteStream(b, 'timed'), false);
        assert.deepEqual(await b.records.read(t, 0, 0, 10, 0), []);
        await assert.rejects(b.records.append(t, [rec(0, 'gone')], 5000), StreamGoneError);
        now = 31 * hour;
        await make('timed', 24, 1);
        const t2 = (await b.store.findStream('timed'))!;
        assert.deepEqual(await b.records.read(t2, 0, 0, 10, 0), [], 'a new stream of the name');
        const [fresh] = await b.records.append(t2, [rec(0, 'fresh')], now);
        assert.deepEqual(
          (await b.records.read(t2, 0, 0, 10, 0)).map((r) => [r.position, r.partitionKey]),
          [[fresh, 'fresh']],
        );

        if (b.nats) {
          // A node stopped between deleting the row and the JetStream stream: trim sweeps it.
          const jsm = await b.nats.nc.jetstreamManager();
          const names = async () => {
            const all: string[] = [];
            for await (const n of jsm.streams.names(`${b.nats!.prefix}.>`)) all.push(n);
            return all.sort();
          };
          assert.equal((await names()).length, 2, 'one JetStream stream per Kinesis stream');
          await b.store.deleteStream('a.b_c');
          await b.records.trim(now, () => b.store.listStreams());
          assert.deepEqual(await names(), [
            `${b.nats.prefix}_KIN_${t2.createdAt.toString(36)}-timed`,
          ]);
          // A stream in the Store without its JetStream stream (made before --nats-url): added.
          await b.store.createStream({ ...t2, name: 'older', createdAt: now });
          const older = (await b.store.findStream('older'))!;
          await b.records.trim(now, () => b.store.listStreams());
          assert.equal((await names()).length, 2);
          const [first] = await b.records.append(older, [rec(0, 'first')], now);
          assert.equal((await b.records.read(older, 0, 0, 10, 0))[0]?.position, first);
        }
      } finally {
        await b.close();
      }
    });
  });
