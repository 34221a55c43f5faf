/**
 * The cluster's one PostgreSQL NOTIFY receiver on the real server: it hears every channel it
 * listens on; a connection PostgreSQL kills (pg_terminate_backend) comes back after `reconnectMs`
 * and listens again; while the server refuses it (its role made NOLOGIN) the wait doubles up to
 * its ceiling, and starts again from `reconnectMs` after a success. Timers are driven by hand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { Logger } from 'pino';
import { PgNotificationListener } from '../../src/platform/cluster/pg-notification-listener.js';
import { testPgUrl } from '../helpers/postgres.js';
import { waitUntil } from '../helpers/wait-for.js';
import { FakeClock, FakeTimer } from '../triggers/fakes.js';

describe('PgNotificationListener (PostgreSQL LISTEN/NOTIFY)', () => {
  // A role of its own: its connections are the listener's, and NOLOGIN makes reconnects fail.
  const role = `t_listen_${randomBytes(4).toString('hex')}`;
  const channels = [`${role}_a`, `${role}_b`];
  const url = new URL(testPgUrl);
  url.username = role;
  url.password = '';
  let admin: pg.Client;

  before(async () => {
    admin = new pg.Client({ connectionString: testPgUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
  });
  after(async () => {
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [
      role,
    ]);
    await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    await admin.end();
  });

  const notify = (channel: string, payload: string) =>
    admin.query('select pg_notify($1, $2)', [channel, payload]);
  const kill = () =>
    admin.query('select pg_terminate_backend(pid) from pg_stat_activity where usename = $1', [
      role,
    ]);

  test('hears its channels; comes back after a kill, backing off while refused', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const timer = new FakeTimer(clock);
    const advance = (ms: number, settle: () => Promise<void>) =>
      timer.advanceTo(new Date(clock.now() + ms).toISOString(), settle);
    const heard: string[] = [];
    const warnings: string[] = [];
    let lost = 0;
    let reconnected = 0;
    const listener = new PgNotificationListener({
      url: url.toString(),
      channels,
      notified: (payload, channel) =>
        heard.push(`${channel === channels[0] ? 'a' : 'b'}:${payload}`),
      name: 'test listener',
      logger: { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Pick<
        Logger,
        'warn'
      >,
      lost: () => lost++,
      reconnected: () => reconnected++,
      timer,
    });
    try {
      await listener.start();
      await notify(channels[0]!, 'one');
      await notify(channels[1]!, 'two');
      await waitUntil(() => heard.length === 2, 'both channels to be heard');
      assert.deepEqual(heard, ['a:one', 'b:two']);

      // Killed: reported lost, a reconnect armed at reconnectMs; it listens again when it fires.
      await kill();
      await waitUntil(() => lost === 1, 'the listener to see its connection go');
      assert.deepEqual(warnings, ['test listener lost its connection; reconnecting']);
      assert.equal(timer.armedDelay(), 1_000);
      await advance(1_000, () => waitUntil(() => reconnected === 1, 'the reconnect'));
      assert.equal(timer.armedDelay(), undefined);
      await notify(channels[1]!, 'three');
      await waitUntil(() => heard.length === 3, 'a notification after the reconnect');
      assert.equal(heard[2], 'b:three');

      // Refused: every failed attempt doubles the wait, up to maxReconnectMs (10 s).
      await admin.query(`ALTER ROLE "${role}" NOLOGIN`);
      await kill();
      await waitUntil(() => lost === 2, 'the listener to see its connection go again');
      const delays = [timer.armedDelay()];
      for (let failed = 1; failed <= 4; failed++) {
        await advance(delays.at(-1)!, () =>
          waitUntil(() => warnings.length === 2 + failed, `failed reconnect ${failed}`),
        );
        delays.push(timer.armedDelay());
      }
      assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 10_000]);
      assert.equal(warnings.at(-1), 'reconnecting the test listener failed');
      await notify(channels[0]!, 'unheard');

      // Let in again: the next attempt listens; a later loss waits reconnectMs again.
      await admin.query(`ALTER ROLE "${role}" LOGIN`);
      await advance(10_000, () => waitUntil(() => reconnected === 2, 'the reconnect once let in'));
      await notify(channels[0]!, 'four');
      await waitUntil(() => heard.length === 4, 'a notification after the second reconnect');
      assert.equal(heard[3], 'a:four', 'what was sent while away is gone');
      await kill();
      await waitUntil(() => lost === 3, 'a third loss');
      assert.equal(timer.armedDelay(), 1_000);
    } finally {
      await listener.stop();
    }
    // Stopped: no connection left, no reconnect armed.
    assert.equal(timer.armedDelay(), undefined);
    await waitUntil(async () => {
      const { rows } = await admin.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where usename = $1',
        [role],
      );
      return rows[0]!.n === 0;
    }, 'no connection of the listener left');
  });
});
