// The SQS scenario alone, small: `npm run build`, then
// `node bench/sqs-throughput.mjs [messages] [trials] [--normal] [--sdk]` (default 2,000 x 1). `npm run bench` runs
// it with its own sizes (`--only sqs` for just this one).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqsScenario } from './lib/sqs.mjs';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const messages = Number(args[0] ?? 2000);
const trials = Number(args[1] ?? 1);
// --normal: `nimbus server --sqlite-synchronous normal` (no fsync per commit).
const synchronous = process.argv.includes('--normal') ? 'normal' : undefined;
// --sdk: send with the SDK v3 client instead of the lean generator of its requests.
const client = process.argv.includes('--sdk') ? 'sdk' : undefined;
const work = await mkdtemp(join(tmpdir(), 'nimbus-sqs-bench-'));
const stops = [];
try {
  const r = await sqsScenario({
    work,
    cfg: {
      sqsMessages: messages,
      sqsTrials: trials,
      sqsWarmup: Math.min(200, messages),
      ...(synchronous ? { sqsSynchronous: synchronous } : {}),
      ...(client ? { sqsClient: client } : {}),
    },
    onStop: (s) => stops.push(s),
  });
  for (const row of r.rows) {
    process.stdout.write(`${row.figure}: median ${Math.round(row.summary.median)} ${row.unit}\n`);
  }
} finally {
  for (const s of stops) await s.stop();
  await rm(work, { recursive: true, force: true });
}
