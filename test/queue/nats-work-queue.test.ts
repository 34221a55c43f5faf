import type { NatsConnection } from 'nats';
import { NatsWorkQueue } from '../../src/queue/nats-work-queue.js';
import { connectTestNats, uniqueNatsPrefix } from '../helpers/nats.js';
import { runWorkQueueContract } from './work-queue-contract.js';

const keyWindowMs = 1500;

// Streams of their own per test (a unique prefix), deleted by cleanup.
runWorkQueueContract(
  'nats',
  async (clock) => {
    const prefix = uniqueNatsPrefix();
    const opts = { clock, prefix, idempotencyWindowMs: keyWindowMs };
    const conns: NatsConnection[] = [];
    const open = async () => {
      const nc = await connectTestNats();
      conns.push(nc);
      return { nc, queue: await NatsWorkQueue.open(nc, opts) };
    };
    const main = await open();
    return {
      queue: main.queue,
      // Another connection: what another node would have.
      async connect() {
        const other = await open();
        return { queue: other.queue, close: () => other.nc.close() };
      },
      close: () => main.nc.close(),
      async cleanup() {
        const nc = await connectTestNats();
        await (await NatsWorkQueue.open(nc, opts)).destroy();
        await nc.close();
        await Promise.all(conns.map((c) => (c.isClosed() ? undefined : c.close())));
      },
    };
  },
  { time: 'real', keyWindowMs },
);
