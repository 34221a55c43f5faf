// Child processes of the benchmark: each one leads its own process group, is tracked, and is
// killed (with every descendant) when the run ends, however it ends.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const tracked = new Set();

/** Starts `cmd args` in a new process group; stdout+stderr go to logFile unless stdio is 'pipe'. */
export function start(cmd, args, { cwd, env, logFile, pipe = false }) {
  let fd;
  if (!pipe) fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    cwd,
    env,
    detached: true,
    stdio: pipe ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
  });
  if (fd !== undefined) closeSync(fd);
  child.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.on('error', () => {});
  tracked.add(child);
  child.exited.then(() => tracked.delete(child));
  return child;
}

/** pid -> ppid for every process we can see. */
function parentTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), Number(rest[1]));
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** Every descendant pid of pid (children, grandchildren, ...). */
export function descendants(pid) {
  const table = parentTable();
  const out = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift();
    for (const [child, parent] of table) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Resident set size in KiB, or 0 when the process is gone. */
export function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU time (user + system) of pid in ms, or 0 when the process is gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in ticks (100/s).
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * Waits until every process in `pids` has been idle (under `share` of one core, over windows of
 * `windowMs`) or `maxMs` has passed; resolves with the time waited. A server that has just taken
 * a burst of writes goes on working after its last answer (SQLite checkpoints its WAL, LevelDB
 * compacts): a trial started then would share the cores with that, and with another system's.
 */
export async function waitForQuiet(pids, { share = 0.03, windowMs = 250, maxMs = 20_000 } = {}) {
  const started = Date.now();
  while (Date.now() - started < maxMs) {
    const before = pids.map((pid) => cpuNs(pid));
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const busiest = Math.max(...pids.map((pid, i) => cpuNs(pid) - before[i]));
    if (busiest < share * windowMs * 1e6) break;
  }
  return Date.now() - started;
}

/**
 * CPU time of pid in ns, summed over its threads from /proc/<pid>/task/<tid>/schedstat (the
 * scheduler's run time, not 10 ms ticks as in /proc/<pid>/stat): short trials of a few hundred
 * requests need it. Threads that ended are not in it; Node's pool and V8 threads live as long
 * as the process. 0 when the process is gone.
 */
export function cpuNs(pid) {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread gone meanwhile
      }
    }
  } catch {
    return 0;
  }
  return total;
}

export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function killHard(child) {
  const pids = descendants(child.pid);
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // group already gone
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** SIGTERM, then after graceMs SIGKILL to the group and to every descendant seen before. */
export async function stop(child, graceMs = 3000) {
  if (!tracked.has(child)) return;
  const pids = descendants(child.pid);
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    // gone
  }
  const done = await Promise.race([
    child.exited.then(() => true),
    sleep(graceMs).then(() => false),
  ]);
  if (!done) killHard(child);
  await sleep(50);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  tracked.delete(child);
}

/** Synchronous last resort, for process exit and signals. */
export function killAllNow() {
  for (const child of tracked) killHard(child);
  tracked.clear();
}

export async function stopAll() {
  await Promise.all([...tracked].map((c) => stop(c)));
}

let installed = false;
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, killing child processes\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

/** Polls a log file until regex matches; rejects on timeout or when child exits first. */
export async function waitForText(file, regex, timeoutMs, child, pollMs = 5) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child?.exited.then(() => {
    exited = true;
  });
  for (;;) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not yet written
    }
    const m = regex.exec(text);
    if (m) return m;
    if (exited)
      throw new Error(
        `process exited before ${regex} appeared; see ${file}:\n${text.slice(-2000)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${regex}; see ${file}:\n${text.slice(-2000)}`);
    await sleep(pollMs);
  }
}

/** Runs a command to completion with pipes; returns {code, ms, stdout, stderr}. */
export async function run(cmd, args, { cwd, env, timeoutMs = 60_000 }) {
  const t0 = performance.now();
  const child = start(cmd, args, { cwd, env, pipe: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => killHard(child), timeoutMs);
  const { code, signal } = await child.exited;
  const ms = performance.now() - t0;
  clearTimeout(timer);
  tracked.delete(child);
  return { code: code ?? (signal ? 128 : 1), ms, stdout, stderr, pid: child.pid };
}
