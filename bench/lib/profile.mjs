// Summarises V8 .cpuprofile files: self time by function and by file/area, and folded stacks
// (flamegraph.pl / speedscope input) next to the profiles.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function area(url) {
  if (!url) return '(native / V8 / GC / idle)';
  if (url.startsWith('node:')) return `node core: ${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0)
    return `dep: ${url
      .slice(nm + 13)
      .split('/')
      .slice(0, url.slice(nm + 13).startsWith('@') ? 2 : 1)
      .join('/')}`;
  const d = url.indexOf('/dist/src/');
  if (d >= 0) return `nimbus: src/${url.slice(d + 10).replace(/\.js$/, '.ts')}`;
  return url;
}

function shortUrl(url) {
  if (!url) return '';
  const d = url.indexOf('/dist/src/');
  if (d >= 0) return `src/${url.slice(d + 10).replace(/\.js$/, '.ts')}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm);
  return url.replace(/^file:\/\//, '');
}

export async function summarizeProfile(file) {
  const prof = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  let idle = 0;
  const byFn = new Map();
  const byArea = new Map();
  const folded = new Map();
  const inclusiveNimbus = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const a = area(cf.url);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const stack = [];
    const seenNimbus = new Set();
    for (let p = id; p !== undefined; p = parent.get(p)) {
      const f = byId.get(p).callFrame;
      stack.push(
        `${f.functionName || '(anonymous)'}${f.url ? ` ${shortUrl(f.url)}` : ''}`.replaceAll(
          ';',
          ',',
        ),
      );
      if (f.url.includes('/dist/src/')) {
        const k = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}`;
        if (!seenNimbus.has(k)) {
          seenNimbus.add(k);
          inclusiveNimbus.set(k, (inclusiveNimbus.get(k) ?? 0) + us);
        }
      }
    }
    const line = stack.reverse().join(';');
    folded.set(line, (folded.get(line) ?? 0) + us);
  }
  const busy = total - idle;
  return { file, total, idle, busy, byFn, byArea, folded, inclusiveNimbus };
}

const top = (map, n) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);

export async function summarizeProfiles(dir, outFile, labels = new Map()) {
  let files = [];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    // none
  }
  const lines = ['# CPU profiles (`npm run bench -- --profile`)', ''];
  for (const f of files) {
    const s = await summarizeProfile(join(dir, f));
    const pct = (us) => `${((100 * us) / s.busy).toFixed(1)}%`;
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f)?.[1]);
    if (labels.size && !labels.has(pid)) continue;
    lines.push(`## ${labels.get(pid) ?? f}`, '', `File: \`bench/.work/prof/${f}\``, '');
    lines.push(
      `Sampled ${(s.total / 1e6).toFixed(1)} s, of which busy (not idle) ${(s.busy / 1e6).toFixed(1)} s. Percentages are of busy time.`,
      '',
    );
    lines.push('### Self time by area', '', '| area | self | share |', '|---|---|---|');
    for (const [k, us] of top(s.byArea, 25))
      lines.push(`| ${k} | ${(us / 1e3).toFixed(0)} ms | ${pct(us)} |`);
    lines.push(
      '',
      '### Self time by function (top 40)',
      '',
      '| function | self | share |',
      '|---|---|---|',
    );
    for (const [k, us] of top(s.byFn, 40))
      lines.push(`| \`${k}\` | ${(us / 1e3).toFixed(0)} ms | ${pct(us)} |`);
    lines.push(
      '',
      '### Inclusive time of Nimbus functions (top 30)',
      '',
      '| function | inclusive | share |',
      '|---|---|---|',
    );
    for (const [k, us] of top(s.inclusiveNimbus, 30))
      lines.push(`| \`${k}\` | ${(us / 1e3).toFixed(0)} ms | ${pct(us)} |`);
    lines.push('');
    const foldedFile = join(dir, f.replace(/\.cpuprofile$/, '.folded'));
    await writeFile(
      foldedFile,
      [...s.folded].map(([k, us]) => `${k} ${Math.round(us)}`).join('\n'),
    );
    lines.push(
      `Folded stacks for a flame graph: \`bench/.work/prof/${f.replace(/\.cpuprofile$/, '.folded')}\` (flamegraph.pl or speedscope).`,
      '',
    );
  }
  if (!files.length) lines.push('No profile was written (did the server exit cleanly?).');
  await writeFile(outFile, `${lines.join('\n')}\n`);
}
