// CPU steal: the share of the machine's CPU time the hypervisor gave to other guests while the
// bench ran (the `steal` column of /proc/stat). On a shared virtual machine it moves every
// figure at once, peers and limits included, while the load average does not show it.
import { readFileSync } from 'node:fs';

/** The aggregate cpu line's jiffies, or undefined where /proc/stat is not there (not Linux). */
export function cpuTimes() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest columns are inside user/nice).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** Steal between two readings, in percent of all CPU time, one decimal. */
export function stealPercent(before, after) {
  if (!before || !after || after.total <= before.total) return undefined;
  return Math.round((1000 * (after.steal - before.steal)) / (after.total - before.total)) / 10;
}
