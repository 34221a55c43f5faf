// What the operate features (issue 16) cost per warm request, as server CPU rather than req/s,
// with a control: four Nimbus servers with the bench's hello and limited functions, two with
// nothing configured ("plain" and "plain again", an A/A pair that shows the method's own
// spread), one with bench/lib/operate.mjs's custom.nimbus settings and /metrics scraped every
// second, one with the settings and no scraping. Each round loads all four at once (same
// machine state for all: the load of other processes hits every server alike), C connections
// each for D seconds, the order autocannon starts them rotating from round to round; CPU per
// request is the server's (and its function processes') user+system time from /proc over the
// 2xx answers. Each figure is the median over rounds of the ratio to "plain" in the same round.
// Then it measures the server CPU of one /metrics scrape (SCRAPES in a row on an idle server).
//   node bench/operate-cpu.mjs            (ROUNDS=16 D=4 C=4 SCRAPES=300 to change)
// `npm run build` and `node scripts/bundle-cli.mjs` first. BENCH_NIMBUS_ROOT picks another build.
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { OPERATE_YAML } from './lib/operate.mjs';
import { cpuMs, descendants } from './lib/proc.mjs';
import { summary } from './lib/stats.mjs';
import { nimbusDeploy, startNimbus, writeService } from './lib/systems.mjs';

const rounds = Number(process.env.ROUNDS ?? 16);
const seconds = Number(process.env.D ?? 4);
const connections = Number(process.env.C ?? 4);
const scrapes = Number(process.env.SCRAPES ?? 300);
const VARIANTS = [
  { name: 'plain', configured: false, scraped: false },
  { name: 'plain again (control)', configured: false, scraped: false },
  { name: 'configured + scraped', configured: true, scraped: true },
  { name: 'configured, not scraped', configured: true, scraped: false },
];

const work = await mkdtemp(join(tmpdir(), 'nimbus-operate-cpu-'));
const servers = [];
const timers = [];
const scrape = (s) =>
  fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${s.token}` } }).then((r) =>
    r.text(),
  );
const cpuOf = (pid) => {
  const server = cpuMs(pid);
  const kids = descendants(pid);
  return { server, tree: kids.reduce((sum, p) => sum + cpuMs(p), server), processes: kids.length };
};
try {
  for (const [i, v] of VARIANTS.entries()) {
    const svc = await writeService(join(work, `svc-${i}`), { functions: ['hello', 'limited'] });
    if (v.configured) await appendFile(join(svc, 'serverless.yml'), OPERATE_YAML);
    const s = await startNimbus(work, { name: `operate-cpu-${i}` });
    servers.push({ v, s, trials: [] });
    await nimbusDeploy(s, svc);
  }
  for (const { v, s } of servers) {
    if (v.scraped) timers.push(setInterval(() => scrape(s).catch(() => {}), 1000));
  }
  const fire = (s) =>
    new Promise((resolve, reject) =>
      autocannon({ url: s.route(), connections, duration: seconds, timeout: 10 }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  await Promise.all(servers.map(({ s }) => fire(s))); // warm-up: instances, JIT
  for (let t = 0; t < rounds; t++) {
    const order = servers.map((_, i) => servers[(i + t) % servers.length]);
    const before = servers.map(({ s }) => cpuOf(s.pid));
    const answers = await Promise.all(order.map(({ s }) => fire(s)));
    servers.forEach((x, i) => {
      const after = cpuOf(x.s.pid);
      const r = answers[order.indexOf(x)];
      const ok = Math.max(1, r['2xx']);
      x.trials.push({
        server: ((after.server - before[i].server) * 1000) / ok,
        tree: ((after.tree - before[i].tree) * 1000) / ok,
        failed: r.non2xx + r.errors,
        processes: after.processes,
      });
    });
    process.stderr.write(
      `round ${t + 1}/${rounds}, load ${loadavg()[0].toFixed(1)}: ` +
        `${servers.map((x) => `${x.v.name} ${Math.round(x.trials[t].server)}/${Math.round(x.trials[t].tree)} µs (${x.trials[t].processes} processes)`).join(', ')}\n`,
    );
  }
  for (const timer of timers) clearInterval(timer);
  const [plain] = servers;
  const pct = (list) => {
    const m = summary(list).median * 100;
    return `${m >= 0 ? '+' : ''}${m.toFixed(1)}%`;
  };
  for (const x of servers) {
    const failed = x.trials.reduce((a, r) => a + r.failed, 0);
    const line = [
      `${x.v.name}: server ${summary(x.trials.map((r) => r.server)).median.toFixed(0)} µs`,
      `with functions ${summary(x.trials.map((r) => r.tree)).median.toFixed(0)} µs per request`,
    ];
    if (x !== plain) {
      line.push(
        `vs plain: server ${pct(x.trials.map((r, i) => r.server / plain.trials[i].server - 1))}`,
        `with functions ${pct(x.trials.map((r, i) => r.tree / plain.trials[i].tree - 1))}`,
      );
    }
    if (failed) line.push(`${failed} non-2xx/errors`);
    console.log(line.join(', '));
  }
  // One scrape's server CPU, on the scraped server once the load is over.
  const scraped = servers.find((x) => x.v.scraped).s;
  for (let i = 0; i < 20; i++) await scrape(scraped);
  const c0 = cpuMs(scraped.pid);
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) bytes = (await scrape(scraped)).length;
  const perScrape = ((cpuMs(scraped.pid) - c0) * 1000) / scrapes;
  console.log(`one /metrics scrape: ${perScrape.toFixed(0)} µs of server CPU (${bytes} bytes)`);
} finally {
  for (const timer of timers) clearInterval(timer);
  for (const { s } of servers) await s.stop();
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
