#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
// Nimbus benchmark suite: `npm run bench` (full, ~6-10 min) or `npm run bench -- --quick` (~2 min).
// Options: --quick, --only <names from SCENARIOS, comma-separated>, --profile (CPU-profile the
// Nimbus servers and one no-op deploy into bench/.work/prof, summary in bench/results/profile.md),
// --no-write (results to bench/.work/results instead of bench/results).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterScenario } from './lib/cluster.mjs';
import { cpuTimes, stealPercent } from './lib/cpu-steal.mjs';
import { dynamodbScenario } from './lib/dynamodb.mjs';
import { operateScenario } from './lib/operate.mjs';
import { installCleanup, stopAll } from './lib/proc.mjs';
import { summarizeProfiles } from './lib/profile.mjs';
import { addRatios, headline, targets, writeReports } from './lib/report.mjs';
import { s3Scenario } from './lib/s3.mjs';
import {
  asyncScenario,
  coldScenario,
  deployScenario,
  footprintScenario,
  warmScenario,
} from './lib/scenarios.mjs';
import { sqsScenario } from './lib/sqs.mjs';
import { kinesisScenario, mqttScenario } from './lib/streams.mjs';
import {
  BENCH,
  installPeers,
  NIMBUS_BIN,
  NIMBUS_ROOT,
  peersInstalled,
  peerVersions,
} from './lib/systems.mjs';
import { websocketScenario } from './lib/websocket.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});

// Every scenario, in run order: its function and whether it compares with the peers
// (serverless-offline, dynalite), which are installed only when one of those runs.
const SCENARIOS = [
  { name: 'warm', run: warmScenario, peers: true },
  { name: 'cold', run: coldScenario, peers: true },
  { name: 'async', run: asyncScenario },
  { name: 'sqs', run: sqsScenario },
  { name: 'deploy', run: deployScenario, peers: true },
  { name: 'dynamodb', run: dynamodbScenario, peers: true },
  { name: 'operate', run: operateScenario },
  { name: 's3', run: s3Scenario },
  { name: 'websocket', run: websocketScenario },
  { name: 'kinesis', run: kinesisScenario },
  { name: 'mqtt', run: mqttScenario },
  { name: 'footprint', run: footprintScenario, peers: true },
  { name: 'cluster', run: clusterScenario },
];

const FULL = {
  connections: [10, 64],
  warmupSec: 3,
  warmSec: 5,
  warmTrials: 5,
  // operate: rounds of the four servers saturated, then at a fixed rate; seconds each trial.
  operateRounds: 6,
  operateSec: 4,
  operateRateRounds: 8,
  operateRateSec: 4,
  coldTrials: 20,
  offlineColdTrials: 6,
  idleWaitMs: 1800,
  noopTrials: 20,
  footprintFunctions: 200,
  warmInstances: 5,
  settleMs: 2000,
  asyncEvents: 2000,
  asyncTrials: 3,
  asyncWarmup: 200,
  sqsMessages: 5000,
  sqsTrials: 3,
  sqsWarmup: 2000,
  asyncSenders: 8,
  asyncTimeoutMs: 120_000,
  dynamodbWidth: 16,
  dynamodbTrials: 3,
  dynamodbSec: 3,
  clusterNodes: 3,
  clusterConnections: 32,
  clusterTrials: 3,
  s3Width: 16,
  s3Trials: 3,
  s3Sec: 3,
  s3LargeMiB: 256,
  wsWarmup: 100,
  wsRoundTrips: 1000,
  wsTrials: 3,
  wsClients: 8,
  wsWindow: 8,
  wsMessages: 5000,
  kinesisRecords: 20_000,
  kinesisTrials: 3,
  kinesisWarmup: 1000,
  mqttMessages: 500,
  mqttGapMs: 20,
};
const QUICK = {
  ...FULL,
  warmupSec: 1,
  warmSec: 2,
  warmTrials: 3,
  operateRounds: 2,
  operateSec: 2,
  operateRateRounds: 4,
  operateRateSec: 2,
  coldTrials: 10,
  offlineColdTrials: 2,
  noopTrials: 8,
  warmInstances: 3,
  settleMs: 1000,
  asyncEvents: 300,
  asyncTrials: 2,
  asyncWarmup: 100,
  dynamodbTrials: 2,
  dynamodbSec: 1,
  sqsMessages: 1000,
  sqsTrials: 2,
  sqsWarmup: 500,
  clusterTrials: 2,
  s3Trials: 2,
  s3Sec: 1,
  wsRoundTrips: 300,
  wsTrials: 2,
  wsMessages: 1000,
  kinesisRecords: 3000,
  kinesisTrials: 2,
  kinesisWarmup: 200,
  mqttMessages: 100,
};

async function main() {
  installCleanup();
  const t0 = performance.now();
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const cpuBefore = cpuTimes();
  const cfg = opts.quick ? QUICK : FULL;
  const only = opts.only ? opts.only.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
  const unknown = only.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
  if (!existsSync(join(NIMBUS_ROOT, 'dist', 'src', 'platform', 'server.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  }
  if (!existsSync(NIMBUS_BIN)) throw new Error(`${NIMBUS_BIN} is missing`);
  const needsPeers = SCENARIOS.some((s) => s.peers && only.includes(s.name));
  if (needsPeers && !peersInstalled()) await installPeers();

  await mkdir(join(BENCH, '.work'), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'nimbus-bench-'));
  const profDir = join(BENCH, '.work', 'prof');
  const stops = [];
  const ctx = {
    work,
    cfg,
    onStop: (s) => stops.push(s),
    profileArgs: opts.profile ? ['--cpu-prof', '--cpu-prof-dir', profDir] : undefined,
    profiled: new Map(),
  };
  process.stderr.write(`bench: ${opts.quick ? 'quick' : 'full'} run, work dir ${work}\n`);

  const rows = [];
  const notes = [];
  const raw = {};
  // A scenario that fails is reported as failed; the others still run and are written.
  const guard = async (name, fn) => {
    try {
      return await fn(ctx);
    } catch (error) {
      process.stderr.write(`bench: scenario ${name} failed: ${error?.stack ?? error}\n`);
      notes.push(`Scenario ${name} FAILED: ${String(error?.message ?? error).split('\n')[0]}`);
      return { rows: [], notes: [], raw: {} };
    }
  };
  try {
    for (const scenario of SCENARIOS) {
      if (!only.includes(scenario.name)) continue;
      const r = await guard(scenario.name, scenario.run);
      rows.push(...r.rows);
      notes.push(...r.notes);
      raw[scenario.name] = r.raw;
      // The cold-start trials also time code change -> first new response (a deploy figure).
      if (r.deployRows) ctx.deployRows = r.deployRows;
    }
    if (ctx.deployRows) {
      rows.push(...ctx.deployRows);
      notes.push(
        'Code change -> first new response is measured in the cold-start trials: edit handler.js, run `nimbus deploy`, GET until the new code answers.',
      );
    }
  } finally {
    for (const s of stops.reverse()) await s.stop().catch(() => {});
    await stopAll();
  }
  if (opts.profile) {
    const summaryFile = join(BENCH, 'results', 'profile.md');
    await summarizeProfiles(profDir, summaryFile, ctx.profiled);
    process.stderr.write(`bench: profile summary in ${summaryFile}\n`);
  }

  const order = SCENARIOS.map((s) => s.name);
  rows.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  addRatios(rows);
  const verdicts = targets(rows);
  const meta = {
    date: new Date().toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    elapsedSec: (performance.now() - t0) / 1000,
    config: cfg,
    scenarios: only,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()}`,
      node: process.version,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100),
      cpuStealPercent: stealPercent(cpuBefore, cpuTimes()),
    },
    peers: await peerVersions(),
    nimbus: process.env.BENCH_NIMBUS_LABEL ?? nimbusLabel(),
  };
  const resultsDir = opts['no-write'] ? join(BENCH, '.work', 'results') : join(BENCH, 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeReports({
    mdFile: join(resultsDir, 'latest.md'),
    jsonFile: join(resultsDir, 'latest.json'),
    meta,
    rows,
    verdicts,
    notes: [...notes],
    // Per store of the async scenario (sqlite, postgres): every trial's figures.
    asyncTrials:
      raw.async &&
      Object.fromEntries(Object.entries(raw.async).map(([store, r]) => [store, r.trials])),
  });
  process.stdout.write(`\n${headline(rows)}\n\n`);
  for (const v of verdicts) {
    const word = v.met === null ? 'NOT MEASURED' : v.met ? 'met' : `MISSED (${v.gap})`;
    process.stdout.write(`${v.target}: ${v.measured} [goal ${v.goal}] ${word}\n`);
  }
  process.stdout.write(
    `\nbench: results in ${join(resultsDir, 'latest.md')} (${Math.round(meta.elapsedSec)} s)\n`,
  );
  await rm(work, { recursive: true, force: true });
}

function nimbusLabel() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: NIMBUS_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], {
      cwd: NIMBUS_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return `${sha}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

main().catch((error) => {
  process.stderr.write(`bench: failed: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
});
