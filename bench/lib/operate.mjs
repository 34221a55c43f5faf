// What operating features cost on the warm path (issue 16): the same hello function on three
// Nimbus servers: one with nothing configured; one with a rate limit that admits everything
// (every request is still counted), a circuit breaker and a fallback on the function, and
// /metrics scraped every second while the load runs (the three: the goal is <= 5%); and
// the same plus OTLP tracing exported to a collector (its own row: not in the bar).
// On a shared machine req/s swings 2x between runs, so the cost is measured in pairs: each round
// runs the plain server in the middle, between the other two ([operated, plain, traced], then
// [traced, plain, operated]), every feature trial has a plain trial next to it, and the cost is
// the median over rounds of 1 - feature/plain of adjacent trials (drift within a round hits
// both). CPU per request (server and function processes, /proc) is paired the same way: it
// barely moves with the machine's load.
// Then a second function limited to HOLD_RATE requests/second for everyone is loaded with 16
// connections: each whole second should admit HOLD_RATE ± 10%, the rest 429, and the next
// second after the load admits again.
import { appendFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { load, timedGet } from './load.mjs';
import { cpuMs, descendants } from './proc.mjs';
import { summary } from './stats.mjs';
import { nimbusDeploy, startNimbus, writeService } from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);

export const OPERATED_FIGURE = 'throughput @10c with limits, breaker, metrics';
export const OPERATED_CPU_FIGURE = 'CPU per request @10c (server + function processes)';
/** Median over rounds of 1 - feature/plain req/s of adjacent trials, in percent. */
export const PAIRED_COST_FIGURE = 'warm throughput cost vs nothing configured (paired trials)';
/** Median over rounds of feature/plain - 1 CPU per request of adjacent trials, in percent. */
export const PAIRED_CPU_FIGURE = 'CPU per request cost vs nothing configured (paired trials)';
export const TRACED_SYSTEM = 'Nimbus + OTLP tracing';
export const PLAIN_SYSTEM = 'Nimbus, nothing configured';
export const HOLD_FIGURE = 'admitted req/s under a 200/s limit (each whole second)';
const HOLD_RATE = 200;

export const OPERATE_YAML = `custom:
  nimbus:
    rateLimits:
      - function: hello
        per: all
        rate: 1000000
      - function: limited
        per: all
        rate: ${HOLD_RATE}
    breakers:
      hello:
        errorRate: 50
        minimumRequests: 10
        window: 30s
        cooldown: 10s
    fallbacks:
      hello:
        statusCode: 503
        body: '{"message":"resting"}'
`;

/** An OTLP/HTTP collector that takes every export and counts the requests. */
async function startCollector() {
  let exports = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    exports: () => exports,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function scrapeEverySecond(nimbus) {
  let scrapes = 0;
  let failures = 0;
  const timer = setInterval(() => {
    fetch(`${nimbus.url}/metrics`, { headers: { authorization: `Bearer ${nimbus.token}` } })
      .then(async (r) => {
        await r.text();
        if (r.ok) scrapes += 1;
        else failures += 1;
      })
      .catch(() => {
        failures += 1;
      });
  }, 1000);
  return {
    stop: () => clearInterval(timer),
    counts: () => ({ scrapes, failures }),
  };
}

export async function operateScenario(ctx) {
  const { work, cfg } = ctx;
  const collector = await startCollector();
  ctx.onStop(collector);
  const plainSvc = await writeService(join(work, 'svc-operate-plain'), {
    functions: ['hello', 'limited'],
  });
  const operatedSvc = await writeService(join(work, 'svc-operate-on'), {
    functions: ['hello', 'limited'],
  });
  await appendFile(join(operatedSvc, 'serverless.yml'), OPERATE_YAML);
  const plain = await startNimbus(work, { name: 'nimbus-operate-plain' });
  ctx.onStop(plain);
  const operated = await startNimbus(work, { name: 'nimbus-operate-on' });
  ctx.onStop(operated);
  const traced = await startNimbus(work, {
    name: 'nimbus-operate-traced',
    extraArgs: ['--otlp-endpoint', collector.url],
  });
  ctx.onStop(traced);
  await nimbusDeploy(plain, plainSvc);
  await nimbusDeploy(operated, operatedSvc);
  await nimbusDeploy(traced, operatedSvc);
  const systems = [
    { name: PLAIN_SYSTEM, s: plain },
    { name: 'Nimbus', s: operated },
    { name: TRACED_SYSTEM, s: traced },
  ];
  for (const { name, s } of systems) {
    const r = await timedGet(s.route());
    if (r.status !== 200) throw new Error(`${name} does not answer: ${r.status} ${r.body}`);
  }
  const connections = 10;
  for (const { s } of systems) {
    await load({ url: s.route(), connections, durationSec: cfg.warmupSec });
  }
  const scrapers = [scrapeEverySecond(operated), scrapeEverySecond(traced)];
  const trials = Object.fromEntries(systems.map((x) => [x.name, []]));
  const [plainSys, operatedSys, tracedSys] = systems;
  const rounds = cfg.operateRounds ?? cfg.warmTrials;
  const durationSec = cfg.operateSec ?? cfg.warmSec;
  // Per round, each feature server against the plain trial next to it.
  const paired = { [operatedSys.name]: [], [tracedSys.name]: [] };
  try {
    for (let t = 0; t < rounds; t++) {
      const order =
        t % 2 === 0 ? [operatedSys, plainSys, tracedSys] : [tracedSys, plainSys, operatedSys];
      const round = {};
      for (const { name, s } of order) {
        const before = cpuOf(s.pid);
        const r = await load({ url: s.route(), connections, durationSec });
        const after = cpuOf(s.pid);
        // CPU per request of the server and its function processes: steadier than req/s when
        // the machine is shared, and what the features cost whatever the load.
        const served = Math.max(1, r.ok);
        r.cpuUsPerRequest = ((after.tree - before.tree) * 1000) / served;
        r.serverCpuUsPerRequest = ((after.server - before.server) * 1000) / served;
        trials[name].push(r);
        round[name] = r;
        log(
          `operate: round ${t + 1}/${rounds} ${name}: ${Math.round(r.rps)} req/s, ` +
            `p99 ${r.p99.toFixed(2)} ms, CPU per request ${Math.round(r.cpuUsPerRequest)} µs ` +
            `(server ${Math.round(r.serverCpuUsPerRequest)} µs, ${after.processes} processes under it), ` +
            `load ${loadavg()[0].toFixed(1)}` +
            (r.non2xx || r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''),
        );
      }
      const base = round[plainSys.name];
      for (const name of Object.keys(paired)) {
        paired[name].push({
          cost: (1 - round[name].rps / base.rps) * 100,
          cpuCost: (round[name].cpuUsPerRequest / base.cpuUsPerRequest - 1) * 100,
          serverCpuCost: (round[name].serverCpuUsPerRequest / base.serverCpuUsPerRequest - 1) * 100,
        });
      }
    }
  } finally {
    for (const scraper of scrapers) scraper.stop();
  }
  const rows = [];
  for (const { name } of systems) {
    const list = trials[name];
    const failures = list.reduce((a, r) => a + r.non2xx + r.errors, 0);
    rows.push({
      scenario: 'operate',
      system: name,
      figure: OPERATED_FIGURE,
      unit: 'req/s',
      better: 'higher',
      summary: summary(list.map((r) => r.rps)),
      ...(failures ? { note: `${failures} non-2xx/errors over the trials` } : {}),
    });
    rows.push({
      scenario: 'operate',
      system: name,
      figure: OPERATED_CPU_FIGURE,
      unit: 'µs',
      better: 'lower',
      summary: summary(list.map((r) => r.cpuUsPerRequest)),
    });
  }
  for (const [name, list] of Object.entries(paired)) {
    const serverCpu = summary(list.map((p) => p.serverCpuCost)).median;
    rows.push({
      scenario: 'operate',
      system: name,
      figure: PAIRED_COST_FIGURE,
      unit: '%',
      better: 'lower',
      summary: summary(list.map((p) => p.cost)),
    });
    rows.push({
      scenario: 'operate',
      system: name,
      figure: PAIRED_CPU_FIGURE,
      unit: '%',
      better: 'lower',
      summary: summary(list.map((p) => p.cpuCost)),
      note: `server process alone: ${serverCpu >= 0 ? '+' : ''}${serverCpu.toFixed(1)}%`,
    });
    log(
      `operate: ${name} vs ${plainSys.name}, median of ${list.length} paired rounds: ` +
        `throughput cost ${summary(list.map((p) => p.cost)).median.toFixed(1)}%, ` +
        `CPU per request ${summary(list.map((p) => p.cpuCost)).median.toFixed(1)}% ` +
        `(server process ${serverCpu.toFixed(1)}%)`,
    );
  }
  const hold = await holdLimit(operated.route('limited'));
  log(`operate: under a ${HOLD_RATE}/s limit each second admitted ${hold.perSecond.join(', ')}`);
  rows.push({
    scenario: 'operate',
    system: 'Nimbus',
    figure: HOLD_FIGURE,
    unit: 'req/s',
    better: 'higher',
    summary: summary(hold.perSecond),
    hold: { rate: HOLD_RATE, perSecond: hold.perSecond, recoveredStatus: hold.recoveredStatus },
  });
  const { scrapes, failures } = scrapers[0].counts();
  // Spans are batched: give the exporter its flush interval before reading the count.
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const notes = [
    `Operate: under a ${HOLD_RATE}/s limit, 16 connections for 6 s: admitted ${hold.perSecond.join(', ')} in the whole seconds, ${hold.refused} answered 429, the first request after the load answered ${hold.recoveredStatus}.`,
    `Operate: the limited server was scraped ${scrapes} times during the trials (${failures} failed); every request passed one rate-limit count and the breaker. The traced one (same settings plus --otlp-endpoint) sent ${collector.exports()} OTLP exports.`,
  ];
  await plain.stop();
  await operated.stop();
  await traced.stop();
  await collector.stop();
  return { rows, notes, raw: trials };
}

async function holdLimit(url) {
  const perSecond = new Map();
  const started = Date.now();
  const result = await new Promise((resolve, reject) => {
    const run = autocannon({ url, connections: 16, duration: 6 }, (e, r) =>
      e ? reject(e) : resolve(r),
    );
    run.on('response', (_c, status) => {
      if (status !== 200) return;
      const second = Math.floor((Date.now() - started) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    });
  });
  // Whole seconds only: the first and the last are partial.
  const whole = [1, 2, 3, 4].map((s) => perSecond.get(s) ?? 0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const after = await fetch(url);
  await after.text();
  return { perSecond: whole, refused: result.non2xx, recoveredStatus: after.status };
}

/**
 * CPU (ms) of a server process alone and with everything under it, from /proc, and how many
 * processes are under it (function instances: more of them cost more CPU per request).
 */
function cpuOf(pid) {
  const server = cpuMs(pid);
  const under = descendants(pid);
  return {
    server,
    tree: under.reduce((sum, p) => sum + cpuMs(p), server),
    processes: under.length,
  };
}
