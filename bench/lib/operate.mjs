// What operating features cost on the warm path (issue 16): the same hello function on four
// Nimbus servers: two with nothing configured (the base, and an A/A control that shows the
// method's own noise); one with a rate limit that admits everything (every request is still
// counted), a circuit breaker and a fallback on the function, and /metrics scraped every second
// while the load runs (the three: the goal is <= 5%); and the same plus OTLP tracing
// exported to a collector (its own row: not in the bar).
// Two methods, each in rounds (the order of the servers rotating from round to round), every
// figure the median over rounds of the ratio to the base server's trial of the same round:
// - saturated: each server in turn, C connections as fast as it answers; req/s and CPU per
//   request. On a shared 2-core host the A/A pair reads +-5-14% here: the scheduler, not the
//   features, decides most of the difference.
// - fixed rate (run first, on 2 connections, so that every server has the same few instances):
//   the four servers at once (whatever else loads the machine loads them alike), each offered
//   the same requests per second (autocannon's overallRate; RATE_SHARE of what the plain server
//   serves alone between the four), so per-second costs (timers, the scrape) are spread over the
//   same number of requests; the figure is CPU per request of the server and its function
//   processes (the threads' run time from /proc schedstat).
// The Targets row (bench/lib/report.mjs) takes the method whose A/A control reads closest to 0.
// Then a second function limited to HOLD_RATE requests/second for everyone is loaded with 16
// connections: each whole second should admit HOLD_RATE ± 10%, the rest 429, and the next
// second after the load admits again.
import { appendFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { load, timedGet } from './load.mjs';
import { cpuNs, descendants } from './proc.mjs';
import { summary } from './stats.mjs';
import { nimbusDeploy, startNimbus, writeService } from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);

export const OPERATED_FIGURE = 'throughput @10c with limits, breaker, metrics';
export const OPERATED_CPU_FIGURE = 'CPU per request @10c (server + function processes)';
/** Saturated: median over rounds of 1 - feature/plain req/s of the same round, in percent. */
export const PAIRED_COST_FIGURE = 'warm throughput cost vs nothing configured (paired trials)';
/** Saturated: median over rounds of feature/plain - 1 CPU per request, in percent. */
export const PAIRED_CPU_FIGURE = 'CPU per request cost vs nothing configured (paired trials)';
export const RATE_CPU_FIGURE = 'CPU per request at a fixed rate (server + function processes)';
/** Fixed rate: median over rounds of feature/plain - 1 CPU per request, in percent. */
export const RATE_CPU_COST_FIGURE = 'CPU per request cost at a fixed rate vs nothing configured';
export const TRACED_SYSTEM = 'Nimbus + OTLP tracing';
export const PLAIN_SYSTEM = 'Nimbus, nothing configured';
/** The same as PLAIN_SYSTEM on a server of its own: its "cost" is the method's noise. */
export const CONTROL_SYSTEM = 'Nimbus, nothing configured (A/A control)';
/** The four servers' fixed rates together, as a share of what the plain server serves alone. */
const RATE_SHARE = 0.6;
/** Connections per server at the fixed rate: few, so that few instances serve them. */
const RATE_CONNECTIONS = 2;
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
  const specs = [
    { name: PLAIN_SYSTEM, server: 'nimbus-operate-plain', svc: plainSvc },
    { name: CONTROL_SYSTEM, server: 'nimbus-operate-control', svc: plainSvc },
    { name: 'Nimbus', server: 'nimbus-operate-on', svc: operatedSvc },
    {
      name: TRACED_SYSTEM,
      server: 'nimbus-operate-traced',
      svc: operatedSvc,
      extraArgs: ['--otlp-endpoint', collector.url],
    },
  ];
  const systems = await Promise.all(
    specs.map(async ({ name, server, extraArgs = [] }) => {
      const s = await startNimbus(work, { name: server, extraArgs });
      ctx.onStop(s);
      return { name, s };
    }),
  );
  // One after the other: two deploys of one service directory would write the same package.
  for (const [i, { s }] of systems.entries()) await nimbusDeploy(s, specs[i].svc);
  for (const { name, s } of systems) {
    const r = await timedGet(s.route());
    if (r.status !== 200) throw new Error(`${name} does not answer: ${r.status} ${r.body}`);
  }
  const connections = 10;
  const [plainSys, , operatedSys, tracedSys] = systems;
  const scrapers = [scrapeEverySecond(operatedSys.s), scrapeEverySecond(tracedSys.s)];
  const others = systems.filter((x) => x !== plainSys);
  const saturated = Object.fromEntries(systems.map((x) => [x.name, []]));
  const paired = Object.fromEntries(others.map((x) => [x.name, []]));
  const fixed = Object.fromEntries(systems.map((x) => [x.name, []]));
  const fixedPaired = Object.fromEntries(others.map((x) => [x.name, []]));
  let rate = 0;
  try {
    // Fixed rate first, on RATE_CONNECTIONS: no server has run more than that many requests at
    // once yet, so each has the same few instances (how many processes a server has moves its
    // CPU per request more than the features do: 3 against 7 read -20% in an A/A pair).
    // Every server gets the same warm-up, twice as long as elsewhere since the rate below is
    // low (with an extra calibration load on the plain server alone, its A/A control read
    // +11.1% and +13.7%, 14 rounds of 16 above 0: a server that has served more requests runs
    // better optimised code); the plain server's second warm-up, as fast as it answers, sets
    // the rate.
    const warm = [];
    for (const { s } of systems) {
      await load({ url: s.route(), connections: RATE_CONNECTIONS, durationSec: cfg.warmupSec });
      warm.push(
        await load({ url: s.route(), connections: RATE_CONNECTIONS, durationSec: cfg.warmupSec }),
      );
    }
    const alone = warm[systems.indexOf(plainSys)];
    // All four at once, RATE_SHARE of what the plain server serves alone between them: below
    // saturation, so that every server serves all it is offered whatever the scheduler does.
    rate = Math.max(20, Math.round((alone.rps * RATE_SHARE) / systems.length));
    log(
      `operate: fixed rate ${rate} req/s on each of the ${systems.length} servers at once, ` +
        `${RATE_CONNECTIONS} connections (the plain server alone served ${Math.round(alone.rps)} req/s)`,
    );
    await rounds({
      systems,
      count: cfg.operateRateRounds ?? cfg.warmTrials,
      label: `${rate} req/s`,
      run: (s) =>
        load({
          url: s.route(),
          connections: RATE_CONNECTIONS,
          durationSec: cfg.operateRateSec ?? cfg.warmSec,
          rate,
        }),
      trials: fixed,
      pair: (r, base) => ({
        cpuCost: (r.cpuUsPerRequest / base.cpuUsPerRequest - 1) * 100,
        serverCpuCost: (r.serverCpuUsPerRequest / base.serverCpuUsPerRequest - 1) * 100,
      }),
      paired: fixedPaired,
      together: true,
    });
    for (const { s } of systems) {
      await load({ url: s.route(), connections, durationSec: cfg.warmupSec });
    }
    await rounds({
      systems,
      count: cfg.operateRounds ?? cfg.warmTrials,
      label: 'saturated',
      run: (s) => load({ url: s.route(), connections, durationSec: cfg.operateSec ?? cfg.warmSec }),
      trials: saturated,
      pair: (r, base) => ({
        cost: (1 - r.rps / base.rps) * 100,
        cpuCost: (r.cpuUsPerRequest / base.cpuUsPerRequest - 1) * 100,
        serverCpuCost: (r.serverCpuUsPerRequest / base.serverCpuUsPerRequest - 1) * 100,
      }),
      paired,
    });
  } finally {
    for (const scraper of scrapers) scraper.stop();
  }
  const rows = [];
  const signed = (v) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;
  for (const { name } of systems) {
    const list = saturated[name];
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
    const atRate = fixed[name];
    const served = summary(atRate.map((r) => r.rps)).median;
    const rateFailures = atRate.reduce((a, r) => a + r.non2xx + r.errors, 0);
    rows.push({
      scenario: 'operate',
      system: name,
      figure: RATE_CPU_FIGURE,
      unit: 'µs',
      better: 'lower',
      summary: summary(atRate.map((r) => r.cpuUsPerRequest)),
      note:
        `${rate} req/s offered, ${Math.round(served)} served (median)` +
        (rateFailures ? `, ${rateFailures} non-2xx/errors` : ''),
    });
  }
  for (const { name } of others) {
    const list = paired[name];
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
      note: `server process alone: ${signed(serverCpu)}`,
    });
    const atRate = fixedPaired[name];
    const atRateServer = summary(atRate.map((p) => p.serverCpuCost)).median;
    rows.push({
      scenario: 'operate',
      system: name,
      figure: RATE_CPU_COST_FIGURE,
      unit: '%',
      better: 'lower',
      summary: summary(atRate.map((p) => p.cpuCost)),
      note: `at ${rate} req/s; server process alone: ${signed(atRateServer)}`,
    });
    log(
      `operate: ${name} vs ${plainSys.name}, medians of ${list.length} saturated and ` +
        `${atRate.length} fixed-rate rounds: throughput cost ` +
        `${summary(list.map((p) => p.cost)).median.toFixed(1)}%, CPU per request saturated ` +
        `${signed(summary(list.map((p) => p.cpuCost)).median)} (server ${signed(serverCpu)}), ` +
        `at ${rate} req/s ${signed(summary(atRate.map((p) => p.cpuCost)).median)} ` +
        `(server ${signed(atRateServer)})`,
    );
  }
  const hold = await holdLimit(operatedSys.s.route('limited'));
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
    `Operate: the limited server was scraped ${scrapes} times during the trials (${failures} failed); every request passed one rate-limit count and the breaker. The traced one (same settings plus --otlp-endpoint) sent ${collector.exports()} OTLP exports. "${CONTROL_SYSTEM}" is a second plain server: its cost is the method's own noise.`,
  ];
  for (const { s } of systems) await s.stop();
  await collector.stop();
  return { rows, notes, raw: { saturated, fixedRate: { rate, trials: fixed } } };
}

/**
 * `count` rounds, each loading every system once, the order rotating so that each server takes
 * each place as often: one after the other, or (`together`) all at once, started in that
 * order, so that whatever else loads the machine loads every server of the round alike. Each
 * trial gets the CPU per request of the server and its function processes; `pair` turns a
 * system's trial and the base's (the first system) of the same round into the paired figures.
 */
async function rounds({ systems, count, label, run, trials, pair, paired, together = false }) {
  const [base] = systems;
  const measured = async (s) => {
    const before = cpuSnapshot(s.pid);
    const r = await run(s);
    return { r, cpu: cpuSince(before, s.pid) };
  };
  for (let t = 0; t < count; t++) {
    const order = systems.map((_, i) => systems[(i + t) % systems.length]);
    const results = [];
    if (together) results.push(...(await Promise.all(order.map(({ s }) => measured(s)))));
    else for (const { s } of order) results.push(await measured(s));
    const round = {};
    order.forEach(({ name }, i) => {
      const { r, cpu } = results[i];
      const served = Math.max(1, r.ok);
      r.cpuUsPerRequest = cpu.tree / served;
      r.serverCpuUsPerRequest = cpu.server / served;
      r.processes = cpu.processes;
      trials[name].push(r);
      round[name] = r;
      log(
        `operate: ${label} round ${t + 1}/${count} ${name}: ${Math.round(r.rps)} req/s, ` +
          `p99 ${r.p99.toFixed(2)} ms, CPU per request ${Math.round(r.cpuUsPerRequest)} µs ` +
          `(server ${Math.round(r.serverCpuUsPerRequest)} µs, ${cpu.processes} processes under it), ` +
          `load ${loadavg()[0].toFixed(1)}` +
          (r.non2xx || r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''),
      );
    });
    for (const name of Object.keys(paired)) paired[name].push(pair(round[name], round[base.name]));
  }
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

/** CPU (ns) of a server process and of every process under it, by pid. */
function cpuSnapshot(pid) {
  return new Map([pid, ...descendants(pid)].map((p) => [p, cpuNs(p)]));
}

/**
 * CPU (µs) since `before` of the server process alone and with everything under it, and how many
 * processes are under it now (function instances: more of them cost more CPU per request). Each
 * process counts from its own earlier reading, or from its start when the trial spawned it.
 */
function cpuSince(before, pid) {
  const under = descendants(pid);
  const delta = (p) => (cpuNs(p) - (before.get(p) ?? 0)) / 1000;
  const server = delta(pid);
  return {
    server,
    tree: under.reduce((sum, p) => sum + delta(p), server),
    processes: under.length,
  };
}
