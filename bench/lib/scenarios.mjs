// The five scenarios. Each returns {rows, notes, raw}; a row is one figure of one system:
// {scenario, system, figure, unit, better: 'higher'|'lower', summary, target?}.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ASYNC_STORES, fireEvents, verifyThroughApi } from './async.mjs';
import { load, timedGet } from './load.mjs';
import { cmdline, cpuMs, descendants, rssKiB, run } from './proc.mjs';
import { summary } from './stats.mjs';
import {
  BENCH,
  handlerPath,
  NIMBUS_BIN,
  nimbusDeploy,
  setCode,
  startBare,
  startNimbus,
  startOffline,
  writeService,
} from './systems.mjs';

const log = (line) => process.stderr.write(`bench: ${line}\n`);

function row(scenario, system, figure, unit, better, values, extra = {}) {
  return { scenario, system, figure, unit, better, summary: summary(values), ...extra };
}

// ------------------------------------------------------------------ 1. warm HTTP

export async function warmScenario(ctx) {
  const { work, cfg } = ctx;
  const nimbusSvc = await writeService(join(work, 'svc-nimbus'), {});
  const offlineSvc = await writeService(join(work, 'svc-offline'), { offline: true });
  const nimbus = await startNimbus(work, { name: 'nimbus-warm', nodeArgs: ctx.profileArgs ?? [] });
  ctx.profiled?.set(nimbus.pid, 'Nimbus server, warm scenario');
  ctx.onStop(nimbus);
  await nimbusDeploy(nimbus, nimbusSvc);
  const offline = await startOffline(work, offlineSvc);
  ctx.onStop(offline);
  const bare = await startBare(work, nimbusSvc);
  ctx.onStop(bare);
  const systems = [
    { name: 'Nimbus', s: nimbus },
    { name: 'serverless-offline', s: offline },
    { name: 'bare node:http', s: bare },
  ];
  for (const { name, s } of systems) {
    const r = await timedGet(s.route());
    if (r.status !== 200 || !r.body.includes('"hello"')) {
      throw new Error(`${name} does not answer the hello route: ${r.status} ${r.body}`);
    }
  }
  const rows = [];
  const raw = {};
  for (const connections of cfg.connections) {
    for (const { name, s } of systems) {
      log(`warm: warm-up ${name} at ${connections} connections (${cfg.warmupSec}s)`);
      await load({ url: s.route(), connections, durationSec: cfg.warmupSec });
    }
    const trials = Object.fromEntries(systems.map((x) => [x.name, []]));
    // Instance starts during the trials: all of them run after the warm-up at this concurrency,
    // so under a steady load there should be none (issue 9).
    const startsDuring = [];
    for (let t = 0; t < cfg.warmTrials; t++) {
      // Rotate the order each trial so no system always runs first or last.
      const order = systems.map((_, i) => systems[(i + t) % systems.length]);
      for (const { name, s } of order) {
        const before = s === nimbus ? await coldStarts(nimbus) : 0;
        const r = await load({ url: s.route(), connections, durationSec: cfg.warmSec });
        if (s === nimbus) startsDuring.push((await coldStarts(nimbus)) - before);
        trials[name].push(r);
        log(
          `warm: ${connections}c trial ${t + 1}/${cfg.warmTrials} ${name}: ${Math.round(r.rps)} req/s, ` +
            `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms` +
            (r.non2xx || r.errors ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''),
        );
      }
    }
    raw[`${connections}c`] = trials;
    rows.push(
      row(
        'warm',
        'Nimbus',
        `instance starts per steady trial @${connections}c`,
        'starts',
        'lower',
        startsDuring,
      ),
    );
    for (const { name } of systems) {
      const list = trials[name];
      const failures = list.reduce((a, r) => a + r.non2xx + r.errors, 0);
      const extra = failures ? { note: `${failures} non-2xx/errors over the trials` } : {};
      rows.push(
        row(
          'warm',
          name,
          `throughput @${connections}c`,
          'req/s',
          'higher',
          list.map((r) => r.rps),
          extra,
        ),
      );
      rows.push(
        row(
          'warm',
          name,
          `p50 @${connections}c`,
          'ms',
          'lower',
          list.map((r) => r.p50),
        ),
      );
      rows.push(
        row(
          'warm',
          name,
          `p99 @${connections}c`,
          'ms',
          'lower',
          list.map((r) => r.p99),
        ),
      );
    }
  }
  // Instances the platform ran under load: its function processes after the 64c runs.
  const kids = descendants(nimbus.pid);
  const notes = [`Nimbus held ${kids.length} child processes after the warm runs.`];
  for (const s of [offline, bare]) await s.stop();
  if (!ctx.keepWarmNimbus) await nimbus.stop();
  return { rows, notes, raw, nimbus };
}

/** Instances started so far: the sum of nimbus_cold_starts_total over functions. */
async function coldStarts(nimbus) {
  const res = await fetch(`${nimbus.url}/metrics`, {
    headers: { authorization: `Bearer ${nimbus.token}` },
  });
  let n = 0;
  for (const m of (await res.text()).matchAll(/^nimbus_cold_starts_total\{[^}]*\} (\d+)/gm))
    n += Number(m[1]);
  return n;
}

// ------------------------------------------------------------------ 2. cold start (+ code change)

function bodyOf(r) {
  try {
    return JSON.parse(r.body);
  } catch {
    return {};
  }
}

export async function coldScenario(ctx) {
  const { work, cfg } = ctx;
  const svc = await writeService(join(work, 'svc-cold'), {});
  const offlineSvc = await writeService(join(work, 'svc-offline-cold'), { offline: true });
  // Scale to zero needs a short idle timeout: 1 s, reaped within a quarter of it.
  const nimbus = await startNimbus(work, {
    name: 'nimbus-cold',
    idleTimeout: '1s',
    nodeArgs: ctx.profileArgs ?? [],
  });
  ctx.profiled?.set(
    nimbus.pid,
    'Nimbus server, cold-start scenario (deploys, new versions, scale to zero)',
  );
  ctx.onStop(nimbus);
  await nimbusDeploy(nimbus, svc);
  await timedGet(nimbus.route());

  const newVersion = [];
  const codeChange = [];
  const deployMs = [];
  const scaledToZero = [];
  const freshNode = [];
  const offlineFirst = [];
  const offlineSpawnToFirst = [];
  let stale = 0;
  let notCold = 0;
  const offlineEvery = Math.max(1, Math.floor(cfg.coldTrials / cfg.offlineColdTrials));

  for (let i = 0; i < cfg.coldTrials; i++) {
    // a) one-function code change: deploy, then the first request (a new version, cold).
    const code = `c${i + 1}`;
    await setCode(svc, code);
    const t0 = performance.now();
    const d = await nimbusDeploy(nimbus, svc);
    let first = await timedGet(nimbus.route());
    if (bodyOf(first).code !== code) {
      stale += 1;
      while (bodyOf(first).code !== code) first = await timedGet(nimbus.route());
    }
    const t1 = performance.now();
    deployMs.push(d.ms);
    newVersion.push(first.ms);
    codeChange.push(t1 - t0);

    // b) scaled to zero: wait past the idle timeout and the reaper, then the first request.
    await sleep(cfg.idleWaitMs);
    const z = await timedGet(nimbus.route());
    if (bodyOf(z).n === 1) scaledToZero.push(z.ms);
    else notCold += 1;

    // c) reference: a fresh node process that requires the handler and answers.
    const f = await run(
      process.execPath,
      [join(BENCH, 'fixtures', 'cold-node.cjs'), handlerPath(svc)],
      {
        cwd: svc,
        env: { PATH: process.env.PATH },
      },
    );
    if (f.code === 0 && f.stdout.includes('"hello"')) freshNode.push(f.ms);

    // d) reference: serverless-offline's first request after start (fewer trials: ~5 s each).
    if (i % offlineEvery === 0 && offlineFirst.length < cfg.offlineColdTrials) {
      const o = await startOffline(work, offlineSvc);
      const r = await timedGet(o.route());
      const spawnToFirst = performance.now() - o.t0;
      await o.stop();
      if (r.status === 200) {
        offlineFirst.push(r.ms);
        offlineSpawnToFirst.push(spawnToFirst);
      }
      log(`cold: offline start ${Math.round(o.readyMs)} ms, first request ${r.ms.toFixed(1)} ms`);
    }
    log(
      `cold: trial ${i + 1}/${cfg.coldTrials}: deploy ${Math.round(d.ms)} ms, new version first ` +
        `${first.ms.toFixed(1)} ms, scaled-to-zero first ${z.ms.toFixed(1)} ms (n=${bodyOf(z).n}), ` +
        `fresh node ${f.ms.toFixed(1)} ms`,
    );
  }
  await nimbus.stop();

  const q = (values) => ({ p50: summary(values).median, p95: quantileOf(values, 0.95) });
  const rows = [
    row('cold', 'Nimbus', 'first request, new version', 'ms', 'lower', newVersion, {
      pcts: q(newVersion),
    }),
    row('cold', 'Nimbus', 'first request, scaled to zero', 'ms', 'lower', scaledToZero, {
      pcts: q(scaledToZero),
    }),
    row('cold', 'serverless-offline', 'first request after start', 'ms', 'lower', offlineFirst, {
      pcts: q(offlineFirst),
    }),
    row('cold', 'fresh node process', 'spawn + require + answer', 'ms', 'lower', freshNode, {
      pcts: q(freshNode),
    }),
  ];
  const deployRows = [
    row('deploy', 'Nimbus', 'code change -> first new response', 'ms', 'lower', codeChange, {
      pcts: q(codeChange),
    }),
    row('deploy', 'Nimbus', 'code-change deploy (CLI run)', 'ms', 'lower', deployMs, {
      pcts: q(deployMs),
    }),
    row(
      'deploy',
      'serverless-offline',
      'restart -> first response',
      'ms',
      'lower',
      offlineSpawnToFirst,
      {
        pcts: q(offlineSpawnToFirst),
      },
    ),
    row('deploy', 'fresh node process', 'spawn + require + answer', 'ms', 'lower', freshNode, {
      pcts: q(freshNode),
    }),
  ];
  const notes = [];
  if (stale)
    notes.push(
      `${stale} of ${cfg.coldTrials} first requests after a deploy still got the old code.`,
    );
  if (notCold) {
    notes.push(
      `${notCold} of ${cfg.coldTrials} scale-to-zero requests found a warm instance (not counted).`,
    );
  }
  return {
    rows,
    deployRows,
    notes,
    raw: {
      newVersion,
      scaledToZero,
      freshNode,
      offlineFirst,
      offlineSpawnToFirst,
      codeChange,
      deployMs,
    },
  };
}

function quantileOf(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

// ------------------------------------------------------------------ 3. async

// Event invocations of `hello` through the Invoke API (X-Amz-Invocation-Type: Event -> 202) on a
// Nimbus server, once per store of ASYNC_STORES (the embedded SQLite store, then PostgreSQL),
// defaults otherwise (so async events of the function run at most 50 at once: half of
// --max-instances 100). Each trial fires N events from a few keep-alive senders as fast as the
// API accepts them, and waits until every accepted event's record is final. accepted ev/s = 202s
// / (first send -> last 202); completed ev/s = accepted / (first send -> the last record's
// updatedAt). Lost = accepted - Succeeded, counted through the control API record by record.
export async function asyncScenario(ctx) {
  const rows = [];
  const notes = [];
  const raw = {};
  for (const store of ASYNC_STORES) {
    const r = await asyncOnStore(ctx, store);
    rows.push(...r.rows);
    notes.push(...r.notes);
    raw[store.store] = r.raw;
  }
  rows.push({
    scenario: 'async',
    system: 'serverless-offline',
    figure: 'events/s completed',
    unit: 'ev/s',
    better: 'higher',
    status: 'no async (not supported)',
  });
  return { rows, notes, raw };
}

async function asyncOnStore(ctx, store) {
  const { work } = ctx;
  const name = `async-${store.store}`;
  const svc = await writeService(join(work, `svc-${name}`), {});
  const prepared = await store.prepare();
  try {
    const nimbus = await startNimbus(work, {
      name: `nimbus-${name}`,
      nodeArgs: ctx.profileArgs ?? [],
      env: prepared.env,
      // Function errors would otherwise wait a minute before their retry (none are expected).
      extraArgs: ['--async-retry-delay', '1s'],
    });
    ctx.profiled?.set(
      nimbus.pid,
      `Nimbus server, async scenario (Event invocations, ${store.describe})`,
    );
    ctx.onStop(nimbus);
    await nimbusDeploy(nimbus, svc);
    const counter = prepared.counter(nimbus);
    const result = await asyncTrials(ctx, store, nimbus, counter);
    await counter.close();
    await nimbus.stop();
    return result;
  } finally {
    await prepared.drop();
  }
}

async function asyncTrials(ctx, store, nimbus, counter) {
  const { cfg } = ctx;
  const fnName = 'bench-dev-hello';
  const tagged = (line) => log(`async (${store.store}): ${line}`);

  const trial = async (count, tag) => {
    const since = Date.now() - 1;
    const kidsCpu = () => descendants(nimbus.pid).reduce((a, p) => a + cpuMs(p), 0);
    const cpu0 = { server: cpuMs(nimbus.pid), kids: kidsCpu() };
    let firing = true;
    let peakKids = 0;
    let pollDoneAt;
    let last = { total: 0, final: 0, succeeded: 0 };
    const fired = fireEvents(nimbus, fnName, { count, senders: cfg.asyncSenders, tag }).finally(
      () => {
        firing = false;
      },
    );
    // Poll the store (read-only, from this process) until everything accepted is final.
    const deadline = performance.now() + cfg.asyncTimeoutMs;
    let polls = 0;
    let f;
    for (;;) {
      await sleep(10);
      polls += 1;
      last = await counter.counts(fnName, since);
      if (polls % 50 === 0) peakKids = Math.max(peakKids, descendants(nimbus.pid).length);
      if (!firing) {
        f ??= await fired;
        if (last.final >= f.ids.length) {
          pollDoneAt = performance.now();
          break;
        }
      }
      if (performance.now() > deadline) break;
    }
    f ??= await fired;
    // CPU of the server and of its function processes (instances started during the trial count
    // from 0) while the events were accepted and run, per event; before the API check below.
    const serverCpuMs = cpuMs(nimbus.pid) - cpu0.server;
    const kidsCpuMs = kidsCpu() - cpu0.kids;
    const v = await verifyThroughApi(nimbus, fnName, f.ids);
    const succeeded = v.statuses.Succeeded ?? 0;
    const nonFinal = v.nonFinal.enqueued + v.nonFinal.running + v.nonFinal.retrying;
    const endWall = v.maxUpdatedAt || last.lastUpdate;
    return {
      count,
      accepted: f.ids.length,
      refused: f.refused.length,
      refusals: f.refused.slice(0, 3),
      acceptedPerSec: f.ids.length / (f.acceptMs / 1000),
      acceptP99Ms: f.acceptP99Ms,
      completedPerSec: f.ids.length / ((endWall - f.wallStart) / 1000),
      completedPerSecPolled: pollDoneAt ? f.ids.length / ((pollDoneAt - f.t0) / 1000) : Number.NaN,
      drainMs: endWall - f.wallStart - f.acceptMs,
      lost: f.ids.length - succeeded,
      nonFinal,
      statuses: v.statuses,
      lists: v.nonFinal,
      timedOut: !pollDoneAt,
      storeCounts: last.byStatus,
      peakChildProcesses: peakKids,
      serverCpuMsPerEvent: serverCpuMs / Math.max(1, f.ids.length),
      functionsCpuMsPerEvent: kidsCpuMs / Math.max(1, f.ids.length),
    };
  };

  tagged(`warm-up, ${cfg.asyncWarmup} events`);
  const warm = await trial(cfg.asyncWarmup, 'warm-up');
  tagged(`warm-up done, ${Math.round(warm.completedPerSec)} ev/s completed, lost ${warm.lost}`);
  if (warm.timedOut || warm.lost) {
    throw new Error(
      `async (${store.store}) warm-up did not complete: ${JSON.stringify(warm.statuses)}, store ${JSON.stringify(warm.storeCounts)}; see ${nimbus.logFile}`,
    );
  }
  const trials = [];
  for (let t = 0; t < cfg.asyncTrials; t++) {
    const r = await trial(cfg.asyncEvents, `trial-${t + 1}`);
    trials.push(r);
    tagged(
      `trial ${t + 1}/${cfg.asyncTrials}: ${r.accepted}/${r.count} accepted at ${Math.round(r.acceptedPerSec)} ev/s (p99 ${r.acceptP99Ms.toFixed(1)} ms), ` +
        `completed ${Math.round(r.completedPerSec)} ev/s (polled ${Math.round(r.completedPerSecPolled)}), ` +
        `drain after last 202 ${Math.round(r.drainMs)} ms, lost ${r.lost}, non-final ${r.nonFinal}, ` +
        `statuses ${JSON.stringify(r.statuses)}, peak children ${r.peakChildProcesses}, ` +
        `CPU per event: server ${r.serverCpuMsPerEvent.toFixed(2)} ms, function processes ${r.functionsCpuMsPerEvent.toFixed(2)} ms` +
        (r.refused ? `, refused ${r.refused}: ${r.refusals.join(' | ')}` : '') +
        (r.timedOut ? ', TIMED OUT' : ''),
    );
  }

  const lost = trials.reduce((a, r) => a + r.lost, 0);
  const nonFinal = trials.reduce((a, r) => a + r.nonFinal, 0);
  const refused = trials.reduce((a, r) => a + r.refused, 0);
  const accepted = trials.reduce((a, r) => a + r.accepted, 0);
  const figure = (name, unit, better, values, extra = {}) =>
    row('async', store.system, name, unit, better, values, { store: store.store, ...extra });
  const rows = [
    figure(
      'events/s accepted',
      'ev/s',
      'higher',
      trials.map((r) => r.acceptedPerSec),
      { note: `${cfg.asyncEvents} events per trial from ${cfg.asyncSenders} keep-alive senders` },
    ),
    figure(
      'events/s completed',
      'ev/s',
      'higher',
      trials.map((r) => r.completedPerSec),
      { note: 'first send -> last record Succeeded' },
    ),
    figure(
      'accept latency p99',
      'ms',
      'lower',
      trials.map((r) => r.acceptP99Ms),
      { note: 'send -> 202, per request' },
    ),
    figure(
      'drain after the last 202',
      'ms',
      'lower',
      trials.map((r) => r.drainMs),
    ),
    figure(
      'server CPU per event',
      'ms',
      'lower',
      trials.map((r) => r.serverCpuMsPerEvent),
      { note: 'accept + queue + run + records, user+system time of the platform process' },
    ),
    figure(
      'function processes CPU per event',
      'ms',
      'lower',
      trials.map((r) => r.functionsCpuMsPerEvent),
    ),
    figure('events lost', 'events', 'lower', [lost], {
      note: `of ${accepted} accepted over ${trials.length} trials; ${nonFinal} non-final; ${refused} refused`,
    }),
  ];
  const peak = Math.max(...trials.map((r) => r.peakChildProcesses));
  const notes = [
    `Async on ${store.describe}: ${cfg.asyncTrials} trials of ${cfg.asyncEvents} Event invocations after a ${cfg.asyncWarmup}-event warm-up, ` +
      `each from ${cfg.asyncSenders} concurrent keep-alive senders on 127.0.0.1; completion polled from the ` +
      'store by the bench, outcome checked through GET /v1/invocations/{id} for every accepted id and the ' +
      'Enqueued/Running/Retrying lists. Peak child processes of the server during the trials: ' +
      `${peak}.`,
  ];
  if (refused)
    notes.push(
      `Async on ${store.describe}: ${refused} events were refused: ${trials
        .flatMap((r) => r.refusals)
        .slice(0, 3)
        .join(' | ')}`,
    );
  return { rows, notes, raw: { warm, trials } };
}

// ------------------------------------------------------------------ 4. deploy (no-op)

export async function deployScenario(ctx) {
  const { work, cfg } = ctx;
  const svc = await writeService(join(work, 'svc-deploy'), {});
  const nimbus = await startNimbus(work, { name: 'nimbus-deploy' });
  ctx.onStop(nimbus);
  const firstDeploy = await nimbusDeploy(nimbus, svc);
  const noop = [];
  let notSkipped = 0;
  for (let i = 0; i < cfg.noopTrials; i++) {
    const d = await nimbusDeploy(nimbus, svc);
    if (d.skipped) noop.push(d.ms);
    else notSkipped += 1;
  }
  // `deploy function -f hello` after a handler edit: a new version of one function's code.
  const fnDeploys = [];
  let fnNotDeployed = 0;
  for (let i = 0; i < cfg.noopTrials; i++) {
    await setCode(svc, `fn-${i}`);
    const d = await nimbusDeploy(nimbus, svc, [], ['function', '-f', 'hello']);
    if (/Function code deployed/.test(d.out.stderr + d.out.stdout)) fnDeploys.push(d.ms);
    else fnNotDeployed += 1;
  }
  if (ctx.profileArgs) {
    // One more no-op deploy, CPU-profiled: where the CLI's time goes.
    const r = await run(process.execPath, [...ctx.profileArgs, NIMBUS_BIN, 'deploy'], {
      cwd: svc,
      env: { PATH: process.env.PATH, NIMBUS_ENDPOINT: nimbus.url, NIMBUS_TOKEN: nimbus.token },
    });
    ctx.profiled?.set(r.pid, 'CLI: one no-op `nimbus deploy`');
  }
  // The same CLI process doing nothing at all: the floor of any CLI command.
  const version = [];
  for (let i = 0; i < Math.min(10, cfg.noopTrials); i++) {
    const r = await run(process.execPath, [NIMBUS_BIN, '--version'], {
      cwd: svc,
      env: { PATH: process.env.PATH },
    });
    if (r.code === 0) version.push(r.ms);
  }
  const node = [];
  for (let i = 0; i < Math.min(10, cfg.noopTrials); i++) {
    const r = await run(process.execPath, ['-e', '0'], {
      cwd: svc,
      env: { PATH: process.env.PATH },
    });
    node.push(r.ms);
  }
  await nimbus.stop();
  log(`deploy: no-op median ${Math.round(summary(noop).median)} ms over ${noop.length}`);
  const rows = [
    row('deploy', 'Nimbus', 'no-op deploy (hash skip, CLI run)', 'ms', 'lower', noop),
    row('deploy', 'Nimbus', 'first deploy (CLI run)', 'ms', 'lower', [firstDeploy.ms]),
    row(
      'deploy',
      'Nimbus',
      'deploy function -f, changed handler (CLI run)',
      'ms',
      'lower',
      fnDeploys,
    ),
    row('deploy', 'Nimbus', '`nimbus --version` (CLI floor)', 'ms', 'lower', version),
    row('deploy', 'node -e 0', 'process start floor', 'ms', 'lower', node),
  ];
  const notes = notSkipped ? [`${notSkipped} no-op deploys were not skipped.`] : [];
  if (fnNotDeployed) notes.push(`${fnNotDeployed} \`deploy function\` runs deployed nothing.`);
  return { rows, notes, raw: { noop, fnDeploys, version, node } };
}

// ------------------------------------------------------------------ 5. footprint

function tree(pid) {
  const kids = descendants(pid);
  return {
    rootKiB: rssKiB(pid),
    kids: kids.map((p) => ({ pid: p, kiB: rssKiB(p), cmd: cmdline(p).slice(0, 160) })),
  };
}

export async function footprintScenario(ctx) {
  const { work, cfg } = ctx;
  const names = Array.from(
    { length: cfg.footprintFunctions },
    (_, i) => `f${String(i + 1).padStart(3, '0')}`,
  );
  const svc = await writeService(join(work, 'svc-200'), { functions: names });
  const offlineSvc = await writeService(join(work, 'svc-200-offline'), {
    functions: names,
    offline: true,
  });

  const nimbus = await startNimbus(work, { name: 'nimbus-footprint' });
  ctx.onStop(nimbus);
  const idleEmpty = tree(nimbus.pid);
  const d = await nimbusDeploy(nimbus, svc);
  await sleep(cfg.settleMs);
  const idle = tree(nimbus.pid);
  // Warm instances: call a few functions once each, measure each new process.
  const before = new Set(descendants(nimbus.pid));
  for (const fn of names.slice(0, cfg.warmInstances)) await timedGet(nimbus.route(fn));
  await sleep(300);
  const after = tree(nimbus.pid);
  const fresh = after.kids.filter((k) => !before.has(k.pid));
  const perInstance = fresh.map((k) => k.kiB / 1024);
  // Prewarmed runtimes get replaced; the instances are the processes that serve. Count all new.
  await nimbus.stop();

  const offline = await startOffline(work, offlineSvc);
  ctx.onStop(offline);
  await sleep(cfg.settleMs);
  const offIdle = tree(offline.pid);
  const offRss = () => offIdle.rootKiB + offIdle.kids.reduce((a, k) => a + k.kiB, 0);
  const idleOffKiB = offRss();
  for (const fn of names.slice(0, cfg.warmInstances)) await timedGet(offline.route(fn));
  await sleep(300);
  const offAfter = tree(offline.pid);
  const offAfterKiB = offAfter.rootKiB + offAfter.kids.reduce((a, k) => a + k.kiB, 0);
  await offline.stop();

  const bare = await startBare(work, svc);
  ctx.onStop(bare);
  await timedGet(bare.route());
  const bareKiB = rssKiB(bare.pid);
  await bare.stop();

  const mib = (k) => k / 1024;
  const kidsKiB = idle.kids.reduce((a, k) => a + k.kiB, 0);
  const rows = [
    row('footprint', 'Nimbus', `platform RSS, ${names.length} idle functions`, 'MiB', 'lower', [
      mib(idle.rootKiB),
    ]),
    row(
      'footprint',
      'Nimbus',
      'child processes while idle',
      'processes',
      'lower',
      [idle.kids.length],
      {
        note: `${mib(kidsKiB).toFixed(1)} MiB RSS in them (prewarmed runtimes)`,
      },
    ),
    row('footprint', 'Nimbus', 'platform RSS, nothing deployed', 'MiB', 'lower', [
      mib(idleEmpty.rootKiB),
    ]),
    row(
      'footprint',
      'serverless-offline',
      `process RSS, ${names.length} idle functions`,
      'MiB',
      'lower',
      [mib(idleOffKiB)],
    ),
    row('footprint', 'Nimbus', 'RSS per warm Node instance', 'MiB', 'lower', perInstance),
    row(
      'footprint',
      'serverless-offline',
      'RSS growth per warm function (worker threads)',
      'MiB',
      'lower',
      [mib(offAfterKiB - idleOffKiB) / cfg.warmInstances],
    ),
    row('footprint', 'bare node:http', 'process RSS with the handler loaded', 'MiB', 'lower', [
      mib(bareKiB),
    ]),
  ];
  const notes = [
    `Deploying ${names.length} functions took ${Math.round(d.ms)} ms (CLI run).`,
    `serverless-offline took ${Math.round(offline.readyMs)} ms to start with ${names.length} functions.`,
  ];
  return { rows, notes, raw: { idle, after, fresh, offIdle, offAfter, bareKiB } };
}
