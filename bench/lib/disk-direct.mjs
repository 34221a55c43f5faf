// The disk device's own sequential rate, past the page cache: `dd` with O_DIRECT (GNU coreutils),
// for readers of the S3 rows to see what the device does beside the page cache's rate, which stays
// the large-object goal's yardstick. Information only.
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';

/** One `dd` run: MiB/s from its own count of bytes and seconds (LC_ALL=C keeps the format). */
function dd(args) {
  return new Promise((resolve, reject) => {
    execFile('dd', args, { env: { ...process.env, LC_ALL: 'C' } }, (error, _stdout, stderr) => {
      if (error) {
        reject(new Error(stderr.trim().split('\n')[0] || error.message));
        return;
      }
      const m = /(\d+) bytes .* copied, ([\d.e+-]+) s/.exec(stderr);
      if (!m || Number(m[2]) <= 0) reject(new Error(`dd said: ${stderr.trim()}`));
      else resolve(Number(m[1]) / (1024 * 1024) / Number(m[2]));
    });
  });
}

/**
 * `source` (a file of whole MiBs, read from the page cache) copied to `target` with O_DIRECT writes
 * and an fsync, then `target` read back with O_DIRECT reads, 1 MiB at a time: `{ up, down }` in
 * MiB/s, or `{ skipped }` with dd's reason when the file system refuses O_DIRECT (tmpfs) or dd is
 * missing. `target` is removed.
 */
export async function deviceTrial(source, target) {
  try {
    const up = await dd([`if=${source}`, `of=${target}`, 'bs=1M', 'oflag=direct', 'conv=fsync']);
    const down = await dd([`if=${target}`, 'of=/dev/null', 'bs=1M', 'iflag=direct']);
    return { up, down };
  } catch (error) {
    return { skipped: error.message };
  } finally {
    await rm(target, { force: true });
  }
}
