// The DynamoDB scenario alone, small: `npm run build`, then
// `node bench/dynamodb-throughput.mjs [seconds] [trials] [--nimbus-only] [--full-only]
// [--normal-only] [--generators=replay,lean,sdk] [--cpu-prof]`
// (default 2 s x 1 trial, for every generator). `npm run bench -- --only dynamodb` runs it with its
// own sizes (the secondary generators, lean client and SDK, one trial each there).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamodbScenario } from './lib/dynamodb.mjs';
import { installCleanup, stopAll } from './lib/proc.mjs';
import { BENCH, installPeers, peersInstalled } from './lib/systems.mjs';

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const [seconds = 2, trials = 1] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map(Number);
const nimbusOnly = flags.includes('--nimbus-only');
installCleanup();
if (!nimbusOnly && !peersInstalled()) await installPeers();
const work = await mkdtemp(join(tmpdir(), 'nimbus-ddb-bench-'));
const profDir = join(BENCH, '.work', 'prof');
if (flags.includes('--cpu-prof')) await mkdir(profDir, { recursive: true });
const stops = [];
try {
  const r = await dynamodbScenario({
    work,
    cfg: {
      dynamodbWidth: 16,
      dynamodbTrials: trials,
      dynamodbSec: seconds,
      dynamodbNimbusOnly: nimbusOnly,
      dynamodbFullOnly: flags.includes('--full-only'),
      dynamodbNormalOnly: flags.includes('--normal-only'),
      dynamodbSecondaryTrials: trials,
      dynamodbGenerators: flags
        .find((f) => f.startsWith('--generators='))
        ?.slice('--generators='.length)
        .split(','),
    },
    onStop: (s) => stops.push(s),
    profileArgs: flags.includes('--cpu-prof')
      ? ['--cpu-prof', '--cpu-prof-dir', profDir]
      : undefined,
  });
  for (const row of r.rows) {
    if (row.unit !== 'ops/s') continue;
    const note = row.note ? ` (${row.note})` : '';
    process.stdout.write(
      `${row.system} ${row.figure}: median ${Math.round(row.summary.median)}${note}\n`,
    );
  }
} finally {
  for (const s of stops) await s.stop();
  await stopAll();
  await rm(work, { recursive: true, force: true });
}
