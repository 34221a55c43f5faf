/** Long-poll waits: woken by their queue's sends, capped by the re-check, ended by a stop. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueWaiters } from '../../../src/services/sqs/queue-waiters.js';

test('a wake ends the waits of its queue only; a stop ends every wait and those to come', async () => {
  const waiters = new QueueWaiters(60_000);
  let aDone = false;
  let bDone = false;
  const a = waiters.wait('a', 60_000).then(() => {
    aDone = true;
  });
  const b = waiters.wait('b', 60_000).then(() => {
    bDone = true;
  });
  waiters.wake('a');
  await a;
  await new Promise((r) => setImmediate(r));
  assert.equal(aDone, true);
  assert.equal(bDone, false);
  waiters.stop();
  await b;
  assert.equal(waiters.stopped, true);
  // Past the stop, a wait returns at once (a receive answers what it has).
  await waiters.wait('c', 60_000);
});

test('an aborted signal ends a wait', async () => {
  const waiters = new QueueWaiters(60_000);
  const closed = new AbortController();
  const waiting = waiters.wait('q', 60_000, closed.signal);
  closed.abort();
  await waiting;
});
