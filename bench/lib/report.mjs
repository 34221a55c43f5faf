// Ratios, target verdicts, and the latest.md / latest.json writers.
import { writeFile } from 'node:fs/promises';
import { ASYNC_STORES } from './async.mjs';
import { quantile, round } from './stats.mjs';

// For each Nimbus figure: the serverless-offline figure it is compared with (peer) and the
// limit's figure. Ratios are Nimbus / other, for every unit.
const COMPARE = {
  'throughput @10c': {
    peer: ['serverless-offline', 'throughput @10c'],
    limit: ['bare node:http', 'throughput @10c'],
  },
  'p50 @10c': { peer: ['serverless-offline', 'p50 @10c'], limit: ['bare node:http', 'p50 @10c'] },
  'p99 @10c': { peer: ['serverless-offline', 'p99 @10c'], limit: ['bare node:http', 'p99 @10c'] },
  'throughput @64c': {
    peer: ['serverless-offline', 'throughput @64c'],
    limit: ['bare node:http', 'throughput @64c'],
  },
  'p50 @64c': { peer: ['serverless-offline', 'p50 @64c'], limit: ['bare node:http', 'p50 @64c'] },
  'p99 @64c': { peer: ['serverless-offline', 'p99 @64c'], limit: ['bare node:http', 'p99 @64c'] },
  'first request, new version': {
    peer: ['serverless-offline', 'first request after start'],
    limit: ['fresh node process', 'spawn + require + answer'],
  },
  'first request, scaled to zero': {
    peer: ['serverless-offline', 'first request after start'],
    limit: ['fresh node process', 'spawn + require + answer'],
  },
  'code change -> first new response': {
    peer: ['serverless-offline', 'restart -> first response'],
    limit: ['fresh node process', 'spawn + require + answer'],
  },
  'PutItem p99': { peer: ['dynalite', 'PutItem p99'] },
  'GetItem p99': { peer: ['dynalite', 'GetItem p99'] },
  'Query p99': { peer: ['dynalite', 'Query p99'] },
  // The plain DynamoDB figures come from the replaying generator (pre-signed requests); the same
  // calls from the lean client (signing each call) and the SDK v3 client, whose CPU shares the
  // machine with the server's; and the server's own CPU per call under each (lower is better).
  ...Object.fromEntries(
    ['PutItem', 'GetItem', 'Query'].flatMap((op) =>
      ['', ', lean client', ', SDK v3 client']
        .flatMap((generator) => [
          `${op} ops/s${generator}`,
          `${op} server CPU per call${generator}`,
        ])
        .map((figure) => [
          figure,
          // The replayed rows also run against node:http answering canned replies: the limit.
          figure.includes(',')
            ? { peer: ['dynalite', figure] }
            : { peer: ['dynalite', figure], limit: ['node:http floor', figure] },
        ]),
    ),
  ),
  // The operating features' cost: the same server with nothing configured is the limit.
  'throughput @10c with limits, breaker, metrics': {
    limit: ['Nimbus, nothing configured', 'throughput @10c with limits, breaker, metrics'],
  },
  'CPU per request @10c (server + function processes)': {
    limit: ['Nimbus, nothing configured', 'CPU per request @10c (server + function processes)'],
  },
  'platform RSS, 200 idle functions': {
    peer: ['serverless-offline', 'process RSS, 200 idle functions'],
  },
  'RSS per warm Node instance': {
    peer: ['serverless-offline', 'RSS growth per warm function (worker threads)'],
    limit: ['bare node:http', 'process RSS with the handler loaded'],
  },
};

export function addRatios(rows) {
  const find = ([system, figure], scenario) =>
    rows.find(
      (r) => r.system === system && r.figure === figure && r.scenario === scenario && r.summary,
    );
  for (const r of rows) {
    if (!r.system.startsWith('Nimbus') || !r.summary) continue;
    const c = COMPARE[r.figure];
    if (!c) continue;
    const peer = c.peer && find(c.peer, r.scenario);
    const limit = c.limit && find(c.limit, r.scenario);
    if (peer) r.ratioToPeer = round(r.summary.median / peer.summary.median, 3);
    if (limit) r.ratioToLimit = round(r.summary.median / limit.summary.median, 3);
  }
  return rows;
}

const get = (rows, figure, scenario = undefined) =>
  rows.find(
    (r) => r.system === 'Nimbus' && r.figure === figure && (!scenario || r.scenario === scenario),
  );

function verdict(name, target, measured, ok, gap) {
  return { target: name, goal: target, measured, met: ok, gap: ok ? '' : gap };
}

export function targets(rows) {
  const out = [];
  const fmt = (v, d = 2) => (Number.isFinite(v) ? round(v, d) : 'n/a');
  for (const c of [10, 64]) {
    const t = get(rows, `throughput @${c}c`);
    if (!t) continue;
    if (t.ratioToPeer !== undefined) {
      out.push(
        verdict(
          `Warm throughput @${c}c vs serverless-offline`,
          '>= 8x',
          `${fmt(t.ratioToPeer)}x`,
          t.ratioToPeer >= 8,
          `${fmt(8 / t.ratioToPeer, 1)}x short`,
        ),
      );
    }
    if (t.ratioToLimit !== undefined) {
      out.push(
        verdict(
          `Warm throughput @${c}c vs bare in-process server`,
          '>= 0.3x',
          `${fmt(t.ratioToLimit, 3)}x`,
          t.ratioToLimit >= 0.3,
          `${fmt(0.3 / t.ratioToLimit, 1)}x short`,
        ),
      );
    }
  }
  const p99 = get(rows, 'p99 @10c');
  if (p99) {
    const v = p99.summary.median;
    out.push(
      verdict(
        'Warm p99 @10c',
        '<= 3 ms',
        `${fmt(v)} ms`,
        v <= 3,
        `${fmt(v - 3)} ms over (${fmt(v / 3, 1)}x)`,
      ),
    );
  }
  for (const f of ['first request, new version', 'first request, scaled to zero']) {
    const r = get(rows, f);
    if (!r) continue;
    const v = r.summary.median;
    out.push(
      verdict(
        `Cold start p50 (${f.replace('first request, ', '')})`,
        '<= 10 ms',
        `${fmt(v)} ms`,
        v <= 10,
        `${fmt(v - 10)} ms over (${fmt(v / 10, 1)}x)`,
      ),
    );
  }
  const noop = get(rows, 'no-op deploy (hash skip, CLI run)');
  if (noop) {
    const v = noop.summary.median;
    out.push(
      verdict(
        'No-op deploy',
        '<= 300 ms',
        `${fmt(v, 0)} ms`,
        v <= 300,
        `${fmt(v - 300, 0)} ms over (${fmt(v / 300, 1)}x)`,
      ),
    );
  }
  const fn = get(rows, 'deploy function -f, changed handler (CLI run)');
  if (fn) {
    const v = fn.summary.median;
    out.push(
      verdict(
        '`deploy function -f` (changed handler)',
        '<= 400 ms',
        `${fmt(v, 0)} ms`,
        v <= 400,
        `${fmt(v - 400, 0)} ms over (${fmt(v / 400, 1)}x)`,
      ),
    );
  }
  const cc = get(rows, 'code change -> first new response');
  if (cc) {
    const v = cc.summary.median;
    out.push(
      verdict(
        'Code change -> first new response',
        '<= 1 s',
        `${fmt(v, 0)} ms`,
        v <= 1000,
        `${fmt(v - 1000, 0)} ms over`,
      ),
    );
  }
  const fmtInt = (v) => v.toLocaleString('en-US');
  // Async (issue 10): per store, its accepted and completed targets, zero lost.
  for (const store of ASYNC_STORES) {
    const of = (figure) =>
      rows.find((r) => r.scenario === 'async' && r.system === store.system && r.figure === figure);
    const name = `Async events on ${store.describe}, zero lost`;
    const goals = [];
    if (store.targets.accepted) goals.push(`>= ${fmtInt(store.targets.accepted)} ev/s accepted`);
    goals.push(`>= ${fmtInt(store.targets.completed)} ev/s completed`, '0 lost');
    const goal = goals.join(', ');
    const done = of('events/s completed');
    const taken = of('events/s accepted');
    const lost = of('events lost');
    const p99 = of('accept latency p99');
    if (!done?.summary || !lost?.summary || !taken?.summary) {
      out.push({
        target: name,
        goal,
        measured: 'not measured (scenario not run or failed)',
        met: null,
        gap: 'not measured',
      });
      continue;
    }
    const acc = taken.summary.median;
    const v = done.summary.median;
    const l = lost.summary.median;
    const gaps = [];
    const want = store.targets;
    if (want.accepted && acc < want.accepted)
      gaps.push(
        `accepted ${fmt(want.accepted - acc, 0)} ev/s short (${fmt(acc / want.accepted, 2)}x)`,
      );
    if (v < want.completed)
      gaps.push(
        `completed ${fmt(want.completed - v, 0)} ev/s short (${fmt(v / want.completed, 2)}x)`,
      );
    if (l !== 0) gaps.push(`${l} events lost`);
    out.push(
      verdict(
        name,
        goal,
        `${fmt(acc, 0)} ev/s accepted (p99 ${fmt(p99?.summary?.median, 1)} ms), ${fmt(v, 0)} ev/s completed, ${l} lost (${lost.note ?? ''})`,
        gaps.length === 0,
        gaps.join('; '),
      ),
    );
  }
  // The operating features' cost (bench/lib/operate.mjs): the issue's bar (rate limit + breaker
  // + metrics), then OTLP tracing on top as its own row. Two methods measure it (saturated
  // throughput, CPU per request at a fixed rate), each beside an A/A control (a second plain
  // server); the verdict takes the method whose control shows the least noise, and only when that
  // noise is under the bar: otherwise a 5% cost is not resolved and the row says so. The noise
  // is the larger of the control's median and half the interquartile range of its per-round
  // readings: a median of a few rounds that happens to land near 0 does not make a method steady.
  const CONTROL = 'Nimbus, nothing configured (A/A control)';
  const spread = (s) =>
    s?.values?.length
      ? Math.max(Math.abs(s.median), (quantile(s.values, 0.75) - quantile(s.values, 0.25)) / 2)
      : Number.NaN;
  const operate = (system, figure) =>
    rows.find((r) => r.scenario === 'operate' && r.system === system && r.figure === figure);
  const methods = [
    { figure: 'warm throughput cost vs nothing configured (paired trials)', what: 'throughput' },
    {
      figure: 'CPU per request cost at a fixed rate vs nothing configured',
      what: 'CPU per request at a fixed rate',
    },
  ]
    .map((m) => ({ ...m, noise: spread(operate(CONTROL, m.figure)?.summary) }))
    .filter((m) => Number.isFinite(m.noise))
    .sort((x, y) => x.noise - y.noise);
  const pct = (v) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)}%` : 'n/a');
  const controlOf = (m) => operate(CONTROL, m.figure).summary.median;
  for (const [system, name] of [
    ['Nimbus', 'Warm path cost of rate limit + breaker + metrics'],
    ['Nimbus + OTLP tracing', 'Warm path cost of the same plus OTLP tracing (beyond the bar)'],
  ]) {
    const [best] = methods;
    const cost = best && operate(system, best.figure);
    if (!cost) continue;
    const c = cost.summary.median;
    const others = methods
      .slice(1)
      .map((m) => [m, operate(system, m.figure)])
      .filter(([, r]) => r)
      .map(
        ([m, r]) =>
          `; ${m.what} ${pct(r.summary.median)} (A/A ${pct(controlOf(m))}, spread ${fmt(m.noise, 1)}%)`,
      )
      .join('');
    const resolved = best.noise < 5;
    out.push(
      verdict(
        name,
        '<= 5%',
        `${pct(c)} ${best.what} (median of ${cost.summary.n} paired rounds; A/A control ${pct(controlOf(best))}, spread ${fmt(best.noise, 1)}%)${others}`,
        resolved && c <= 5,
        resolved
          ? `${fmt(c - 5, 1)} points over`
          : `not resolved: the A/A spread of the steadiest method is ${fmt(best.noise, 1)}%`,
      ),
    );
  }
  const hold = rows.find((r) => r.hold);
  if (hold) {
    const { rate, perSecond, recoveredStatus } = hold.hold;
    const worst = Math.max(...perSecond.map((n) => Math.abs(n - rate) / rate));
    out.push(
      verdict(
        `A ${rate}/s rate limit under load, then recovery`,
        '+-10% each second, 200 after',
        `${perSecond.join(', ')} req/s; then ${recoveredStatus}`,
        worst <= 0.1 && recoveredStatus === 200,
        `${fmt(worst * 100, 1)}% off`,
      ),
    );
  }
  for (const op of ['PutItem', 'GetItem', 'Query']) {
    const r = get(rows, `${op} ops/s`, 'dynamodb');
    if (r?.ratioToPeer === undefined) continue;
    out.push(
      verdict(
        `DynamoDB ${op} vs dynalite`,
        '>= 2x',
        `${fmt(r.ratioToPeer)}x (${fmt(r.summary.median, 0)} ops/s)`,
        r.ratioToPeer >= 2,
        `${fmt(2 / r.ratioToPeer, 1)}x short`,
      ),
    );
  }
  const sqs = get(rows, 'send -> function (batchSize 10) -> delete', 'sqs');
  if (sqs?.summary) {
    // A trial that left a message in the queue or in flight throws: every counted trial lost none.
    out.push(
      verdict(
        'SQS send -> function (batchSize 10) -> delete on SQLite, none lost',
        '>= 3,000 msg/s, 0 lost',
        `${fmt(sqs.summary.median, 0)} msg/s, 0 lost`,
        sqs.summary.median >= 3000,
        `${fmt(3000 - sqs.summary.median, 0)} msg/s short`,
      ),
    );
  }
  for (const direction of ['upload', 'download']) {
    const r = rows.find(
      (x) => x.scenario === 's3' && x.system === 'Nimbus' && x.figure.endsWith(` ${direction}`),
    );
    if (r?.ratioToLimit === undefined) continue;
    out.push(
      verdict(
        `S3 large-object ${direction} vs the disk's sequential rate`,
        '>= 0.5x',
        `${fmt(r.ratioToLimit)}x (${fmt(r.summary.median, 0)} MiB/s)`,
        r.ratioToLimit >= 0.5,
        `${fmt(0.5 / r.ratioToLimit, 1)}x short`,
      ),
    );
  }
  return out;
}

function fmtValue(r) {
  if (r.status) return r.status;
  const s = r.summary;
  const d =
    r.unit === 'req/s' ||
    r.unit === 'ev/s' ||
    r.unit === 'events' ||
    r.unit === 'processes' ||
    r.unit === 'pairs/s' ||
    r.unit === 'MiB/s' ||
    r.unit === 'starts'
      ? 0
      : r.unit === 'MiB'
        ? 1
        : 2;
  const v = (x) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  let text = `${v(s.median)} ${r.unit}`;
  if (r.pcts) text = `p50 ${v(r.pcts.p50)} / p95 ${v(r.pcts.p95)} ${r.unit}`;
  if (s.n > 1) text += ` (${v(s.min)}–${v(s.max)}, n=${s.n})`;
  return text;
}

const ratio = (x) =>
  x === undefined ? '' : `${x >= 10 ? x.toFixed(1) : x.toFixed(x < 0.1 ? 3 : 2)}x`;

export function table(rows, scenarios) {
  const lines = [
    '| scenario | system | figure | value (median; min–max over trials) | ratio to peer | ratio to limit |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (scenarios && !scenarios.includes(r.scenario)) continue;
    const note = r.note ? ` — ${r.note}` : '';
    lines.push(
      `| ${r.scenario} | ${r.system} | ${r.figure} | ${fmtValue(r)}${note} | ${ratio(r.ratioToPeer)} | ${ratio(r.ratioToLimit)} |`,
    );
  }
  return lines.join('\n');
}

export function targetTable(verdicts) {
  const lines = ['| target | goal | measured | verdict |', '|---|---|---|---|'];
  for (const v of verdicts) {
    const word = v.met === null ? 'not measured' : v.met ? 'met' : `missed: ${v.gap}`;
    lines.push(`| ${v.target} | ${v.goal} | ${v.measured} | ${word} |`);
  }
  return lines.join('\n');
}

export function headline(rows) {
  const pick = [
    ['warm', 'throughput @10c'],
    ['warm', 'p99 @10c'],
    ['warm', 'throughput @64c'],
    ['warm', 'p99 @64c'],
    ['cold', 'first request, new version'],
    ['cold', 'first request, scaled to zero'],
    ['deploy', 'no-op deploy (hash skip, CLI run)'],
    ['deploy', 'code change -> first new response'],
    ['async', 'events/s completed'],
    ['footprint', 'platform RSS, 200 idle functions'],
    ['footprint', 'RSS per warm Node instance'],
  ];
  const chosen = pick
    .map(([s, f]) => rows.find((r) => r.scenario === s && r.figure === f && r.system === 'Nimbus'))
    .filter(Boolean);
  return table(chosen);
}

export async function writeReports({ mdFile, jsonFile, meta, rows, verdicts, notes, asyncTrials }) {
  const md = [
    '# Nimbus benchmark: latest run',
    '',
    `Measured ${meta.date} (${meta.mode} run, ${Math.round(meta.elapsedSec)} s) on ${meta.machine.cpus} × ${meta.machine.cpuModel}, ` +
      `${meta.machine.memGiB} GiB RAM, ${meta.machine.os}, Node ${meta.machine.node}; load average ${meta.machine.loadAverageBefore[0]} before, ${meta.machine.loadAverageAfter[0]} after (other work shares this machine)${meta.machine.cpuStealPercent === undefined ? '' : `; CPU steal ${meta.machine.cpuStealPercent}% over the run (time the hypervisor gave to other guests)`}. ` +
      `Nimbus ${meta.nimbus}. Peers: serverless ${meta.peers.serverless ?? 'n/a'}, serverless-offline ${meta.peers['serverless-offline'] ?? 'n/a'}. ` +
      'Everything on 127.0.0.1; the load generator (autocannon) runs in the bench process, every system in a child process of its own.',
    '',
    'Ratios are Nimbus ÷ the other system, medians over trials: above 1 means more throughput, or more ' +
      'milliseconds / MiB. The peer is serverless-offline 13 (Serverless Framework 3); the limit is a bare ' +
      '`node:http` server calling the handler in-process (warm) or a fresh `node` process that requires the ' +
      'handler and answers (cold, code change).',
    '',
    '## Targets',
    '',
    targetTable(verdicts),
    '',
    '## All figures',
    '',
    table(rows),
    '',
    '## Notes',
    '',
    ...notes.map((n) => `- ${n}`),
    '',
    `Command: \`${meta.command}\`. Raw trial values: \`latest.json\`.`,
    '',
  ].join('\n');
  await writeFile(mdFile, md);
  await writeFile(
    jsonFile,
    `${JSON.stringify({ meta, targets: verdicts, rows, notes, ...(asyncTrials ? { asyncTrials } : {}) }, null, 2)}\n`,
  );
  return md;
}
