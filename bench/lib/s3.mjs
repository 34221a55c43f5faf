// S3 scenario: small objects (1 KB PutObject then GetObject of the same key, as pairs per second,
// N in flight) and large-object MB/s (one streamed PutObject and one streamed GetObject of
// `s3LargeMiB`), through the official SDK v3 client against the `nimbus server` child. The limit
// for large objects is the disk's own sequential rate measured in the same run on the same file
// system: a file of the same size written in 1 MiB pieces and fsynced, then read back.
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { round, summary } from './stats.mjs';
import { nimbusKey, startNimbus } from './systems.mjs';

const log = (m) => process.stderr.write(`bench: ${m}\n`);
const MiB = 1024 * 1024;
const small = Buffer.alloc(1024, 'x');

/** `bytes` of a repeated pseudo-random MiB, produced as it is read (never all in memory). */
export function bodyStream(bytes) {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, MiB);
      left -= n;
      this.push(n === MiB ? block : block.subarray(0, n));
    },
  });
}

/** As many PUT+GET pairs of 1 KB objects as `width` callers complete in `seconds`. */
async function smallTrial(s3, width, seconds) {
  const until = performance.now() + seconds * 1000;
  let pairs = 0;
  let errors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (performance.now() < until) {
        const Key = `small/${next++ % 2000}`;
        try {
          await s3.send(new PutObjectCommand({ Bucket: 'bench', Key, Body: small }));
          const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key }));
          await got.Body.transformToByteArray();
          pairs++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { pairs: pairs / seconds, errors };
}

export async function largeTrial(s3, bytes) {
  const Key = 'large/object';
  let t = performance.now();
  await s3.send(
    new PutObjectCommand({ Bucket: 'bench', Key, Body: bodyStream(bytes), ContentLength: bytes }),
  );
  const upMs = performance.now() - t;
  t = performance.now();
  const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key }));
  let read = 0;
  for await (const chunk of got.Body) read += chunk.length;
  const downMs = performance.now() - t;
  if (read !== bytes) throw new Error(`GetObject returned ${read} bytes, not ${bytes}`);
  return { up: bytes / MiB / (upMs / 1000), down: bytes / MiB / (downMs / 1000) };
}

/** The disk's sequential rate on the data dir's file system: 1 MiB writes + fsync, then reads. */
async function diskTrial(dir, bytes) {
  const file = join(dir, 'disk-probe');
  const source = bodyStream(bytes);
  let t = performance.now();
  const handle = await open(file, 'w');
  try {
    for await (const chunk of source) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const writeMs = performance.now() - t;
  t = performance.now();
  let read = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) read += chunk.length;
  const readMs = performance.now() - t;
  await rm(file, { force: true });
  if (read !== bytes) throw new Error('disk probe read back the wrong size');
  return { up: bytes / MiB / (writeMs / 1000), down: bytes / MiB / (readMs / 1000) };
}

export async function s3Scenario(ctx) {
  const { work, cfg } = ctx;
  const nimbus = await startNimbus(work, { name: 'nimbus-s3' });
  ctx.onStop(nimbus);
  const s3 = new S3Client({
    endpoint: nimbus.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: await nimbusKey(nimbus),
    maxAttempts: 1,
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const rows = [];
  const raw = { small: [], large: [], disk: [] };

  await smallTrial(s3, cfg.s3Width, 1); // warm-up
  for (let t = 0; t < cfg.s3Trials; t++) {
    const r = await smallTrial(s3, cfg.s3Width, cfg.s3Sec);
    raw.small.push(r);
    log(`s3: 1 KB PUT+GET trial ${t + 1}/${cfg.s3Trials}: ${Math.round(r.pairs)} pairs/s`);
  }
  const bytes = cfg.s3LargeMiB * MiB;
  const probeDir = await mkdtemp(join(nimbus.dataDir, 'disk-probe-'));
  for (let t = 0; t < cfg.s3Trials; t++) {
    // Alternated so neither always runs on a warmer page cache.
    const disk = await diskTrial(probeDir, bytes);
    const large = await largeTrial(s3, bytes);
    raw.disk.push(disk);
    raw.large.push(large);
    log(
      `s3: ${cfg.s3LargeMiB} MiB trial ${t + 1}/${cfg.s3Trials}: upload ${large.up.toFixed(0)} MiB/s ` +
        `(disk write+fsync ${disk.up.toFixed(0)}), download ${large.down.toFixed(0)} MiB/s ` +
        `(disk read ${disk.down.toFixed(0)})`,
    );
  }
  await rm(probeDir, { recursive: true, force: true });
  s3.destroy();

  const errors = raw.small.reduce((a, r) => a + r.errors, 0);
  const row = (system, figure, unit, values, extra = {}) => ({
    scenario: 's3',
    system,
    figure,
    unit,
    better: 'higher',
    summary: summary(values),
    ...extra,
  });
  rows.push(
    row(
      'Nimbus',
      `1 KB PUT+GET pairs/s @${cfg.s3Width} in flight`,
      'pairs/s',
      raw.small.map((r) => r.pairs),
      errors ? { note: `${errors} errors over the trials` } : {},
    ),
    row(
      'Nimbus',
      `${cfg.s3LargeMiB} MiB upload`,
      'MiB/s',
      raw.large.map((r) => r.up),
    ),
    row(
      'disk',
      `${cfg.s3LargeMiB} MiB sequential write + fsync`,
      'MiB/s',
      raw.disk.map((r) => r.up),
    ),
    row(
      'Nimbus',
      `${cfg.s3LargeMiB} MiB download`,
      'MiB/s',
      raw.large.map((r) => r.down),
    ),
    row(
      'disk',
      `${cfg.s3LargeMiB} MiB sequential read`,
      'MiB/s',
      raw.disk.map((r) => r.down),
    ),
  );
  // Large objects against the disk's rate (the limit), the same direction.
  const [, up, diskUp, down, diskDown] = rows;
  up.ratioToLimit = round(up.summary.median / diskUp.summary.median, 3);
  down.ratioToLimit = round(down.summary.median / diskDown.summary.median, 3);
  return {
    rows,
    raw,
    notes: [
      `S3: the SDK v3 client in the bench process (its default CRC32 checksums on uploads). Small: ` +
        `PutObject then GetObject of a 1 KB object, ${cfg.s3Width} callers. Large: one streamed ` +
        `PutObject and GetObject of ${cfg.s3LargeMiB} MiB, against the disk's own rate on the ` +
        'data dir: the same bytes written in 1 MiB pieces and fsynced, then read back (from the ' +
        'page cache when it holds them, as the GetObject reads are).',
    ],
  };
}
