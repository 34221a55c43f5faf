// Warm HTTP path, measured as CPU per request rather than req/s, so that runs on a shared machine
// compare: a `nimbus server` with the bench's hello service, a fixed number of requests from
// autocannon at each connection count, and the CPU time (user+system, /proc) the server and its
// function processes spent on them. Also counts instance starts (nimbus_cold_starts_total) during
// the measured requests, after a warm-up at the same concurrency.
//   node bench/warm-cpu.mjs [--requests 20000] [--connections 10,64] [--prof dir]
// `npm run build` and `node scripts/bundle-cli.mjs` first. BENCH_NIMBUS_ROOT picks another build.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuMs, descendants } from './lib/proc.mjs';
import { nimbusDeploy, startNimbus, writeService } from './lib/systems.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const requests = Number(arg('requests', '20000'));
const connectionCounts = arg('connections', '10,64').split(',').map(Number);
const profDir = arg('prof', undefined);

const work = await mkdtemp(join(tmpdir(), 'nimbus-warm-cpu-'));
const nimbus = await startNimbus(work, {
  name: 'warm-cpu',
  nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
});
try {
  await nimbusDeploy(nimbus, await writeService(join(work, 'svc'), {}));
  const url = nimbus.route();
  const coldStarts = async () => {
    const res = await fetch(`${nimbus.url}/metrics`, {
      headers: { authorization: `Bearer ${nimbus.token}` },
    });
    const text = await res.text();
    let n = 0;
    for (const m of text.matchAll(/^nimbus_cold_starts_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
    return n;
  };
  const fire = (connections, amount) =>
    new Promise((resolve, reject) => {
      const lat = [];
      const inst = autocannon({ url, connections, amount, timeout: 10 }, (err, r) =>
        err ? reject(err) : resolve({ r, lat }),
      );
      inst.on('response', (_c, status, _b, t) => {
        if (status === 200) lat.push(t);
      });
    });
  const cpuOf = () => {
    const kids = descendants(nimbus.pid);
    return {
      server: cpuMs(nimbus.pid),
      kids: kids.reduce((a, p) => a + cpuMs(p), 0),
      n: kids.length,
    };
  };
  const out = [];
  for (const c of connectionCounts) {
    await fire(c, Math.min(5000, requests)); // warm-up at this concurrency: instances, JIT
    const starts0 = await coldStarts();
    const cpu0 = cpuOf();
    const me0 = process.cpuUsage();
    const t0 = performance.now();
    const { r, lat } = await fire(c, requests);
    const secs = (performance.now() - t0) / 1000;
    const cpu1 = cpuOf();
    const me = process.cpuUsage(me0);
    const starts1 = await coldStarts();
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.floor(p * (lat.length - 1))] ?? Number.NaN;
    out.push({
      connections: c,
      ok: r['2xx'],
      errors: r.errors + r.non2xx,
      reqPerSec: Math.round(r['2xx'] / secs),
      p50: +q(0.5).toFixed(2),
      p99: +q(0.99).toFixed(2),
      serverCpuUsPerReq: Math.round(((cpu1.server - cpu0.server) * 1000) / requests),
      functionCpuUsPerReq: Math.round(((cpu1.kids - cpu0.kids) * 1000) / requests),
      loadGenCpuUsPerReq: Math.round((me.user + me.system) / requests),
      instanceStarts: starts1 - starts0,
      processes: cpu1.n,
    });
  }
  console.log(JSON.stringify({ load: loadavg().map((x) => +x.toFixed(2)), results: out }, null, 1));
} finally {
  await nimbus.stop();
  await rm(work, { recursive: true, force: true });
}
