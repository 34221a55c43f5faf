// Large-object S3 path, measured as CPU per MiB as well as MiB/s, so that runs on a shared machine
// compare: one PutObject and one GetObject of `--mib` through each load generator (`raw`,
// lib/s3-raw-client.mjs: raw sockets, body framed and CRC32 computed before the timed window,
// download counted by bytes and verified after it; `lean`, lib/s3-lean-client.mjs, over node:http
// with the response's CRC32 checked while timed; `sdk`, the SDK v3 client; all send the SDK's
// default CRC32 trailer on an aws-chunked upload after 100-continue) against a `nimbus server` child,
// with the CPU time (user+system, /proc) the server and this (client) process spent per direction.
// A "client floor" row sends the same calls to a sink: a bare node:http child that drains PUT
// bodies and serves GETs from one MiB in memory (with the right CRC32), so what the client itself
// costs, and its best rate on this machine, stand beside Nimbus's.
// `multipart` (lib/s3.mjs): a multipart upload and ranged GETs as the AWS CLI sends them (no sink
// row: the sink does not speak multipart).
//   node bench/s3-large-cpu.mjs [--mib 256] [--trials 3] [--client raw,lean,sdk,multipart] [--prof dir]
// `npm run build` and `node scripts/bundle-cli.mjs` first. BENCH_NIMBUS_ROOT picks another build.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { cpuMs, start, stop, waitForText } from './lib/proc.mjs';
import { cliInFlight, largeClients } from './lib/s3.mjs';
import { leanS3Client } from './lib/s3-lean-client.mjs';
import { rawS3Client } from './lib/s3-raw-client.mjs';
import { nimbusKey, startNimbus } from './lib/systems.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const MiB = 1024 * 1024;
const mib = Number(arg('mib', '256'));
const trials = Number(arg('trials', '3'));
const profDir = arg('prof', undefined);
// Any of `raw`, `lean`, `sdk` (see above).
const generators = arg('client', 'raw,lean,sdk').split(',');
const bytes = mib * MiB;

// The sink: the same repeated MiB as bodyStream, its CRC32 over `bytes` computed once at start.
const sinkSource = `
const http = require('node:http');
const zlib = require('node:zlib');
const MiB = 1024 * 1024;
const bytes = ${bytes};
const block = Buffer.alloc(MiB);
for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
let crc = 0;
for (let left = bytes; left > 0; left -= MiB) crc = zlib.crc32(block.subarray(0, Math.min(left, MiB)), crc);
const crcB64 = Buffer.from([crc >>> 24, (crc >>> 16) & 255, (crc >>> 8) & 255, crc & 255]).toString('base64');
http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-length': bytes, etag: '"x"', 'x-amz-checksum-crc32': crcB64 });
    let left = bytes;
    const more = () => {
      while (left > 0) {
        const n = Math.min(left, MiB);
        left -= n;
        if (!res.write(n === MiB ? block : block.subarray(0, n))) return res.once('drain', more);
      }
      res.end();
    };
    return more();
  }
  req.resume();
  req.on('end', () => res.writeHead(200, { etag: '"x"' }).end());
}).listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });
`;

function client(endpoint, credentials) {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
  });
}

/** CPU ms of the process's main thread (its other threads: libuv's pool, workers, V8's GC). */
function mainThreadMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** One direction: MiB/s, and CPU ms per MiB of the server pid (and its main thread) and of this process. */
async function measured(pid, fn) {
  const server0 = cpuMs(pid);
  const main0 = mainThreadMs(pid);
  const me0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const secs = (performance.now() - t0) / 1000;
  const me = process.cpuUsage(me0);
  return {
    mibPerSec: Math.round(mib / secs),
    serverMsPerMiB: +((cpuMs(pid) - server0) / mib).toFixed(2),
    serverMainMsPerMiB: +((mainThreadMs(pid) - main0) / mib).toFixed(2),
    clientMsPerMiB: +((me.user + me.system) / 1000 / mib).toFixed(2),
  };
}

async function trial(clients, pid, generator) {
  const Key = 'large/object';
  const { prepare, put, get, verify } = largeClients[generator];
  const prepared = prepare(bytes);
  const up = await measured(pid, () => put(clients, Key, prepared));
  const down = await measured(pid, async () => {
    const read = await get(clients, Key, prepared);
    if (read !== bytes) throw new Error(`GetObject returned ${read} bytes, not ${bytes}`);
  });
  if (verify) await verify(clients, Key, prepared);
  return { up, down };
}

const work = await mkdtemp(join(tmpdir(), 'nimbus-s3-large-'));
const rows = [];
const sinkLog = join(work, 'sink.log');
const sink = start(process.execPath, ['-e', sinkSource], {
  cwd: work,
  env: process.env,
  logFile: sinkLog,
});
const nimbus = await startNimbus(work, {
  name: 's3-large',
  nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
});
try {
  const sinkUrl = (await waitForText(sinkLog, /listening on (http:\/\/\S+)/, 10_000, sink))[1];
  const sinkKey = { accessKeyId: 'AKIDSINK', secretAccessKey: 'sink' };
  const sinkClients = {
    sdk: client(sinkUrl, sinkKey),
    lean: leanS3Client(sinkUrl, sinkKey),
    raw: rawS3Client(sinkUrl, sinkKey),
  };
  const key = await nimbusKey(nimbus);
  const clients = {
    sdk: client(nimbus.url, key),
    lean: leanS3Client(nimbus.url, key),
    raw: rawS3Client(nimbus.url, key),
    rawPool: Array.from({ length: cliInFlight }, () => rawS3Client(nimbus.url, key)),
  };
  await clients.sdk.send(new CreateBucketCommand({ Bucket: 'bench' }));
  // Warm-up: JIT, page cache, the data dir's first files.
  for (const generator of generators) await trial(clients, nimbus.pid, generator);
  for (let t = 0; t < trials; t++) {
    // Interleaved so neither always runs on a quieter moment.
    for (const generator of generators) {
      // The sink answers single PutObjects and GetObjects only, not a multipart upload.
      const floor =
        generator === 'multipart' ? undefined : await trial(sinkClients, sink.pid, generator);
      const r = await trial(clients, nimbus.pid, generator);
      rows.push({ system: 'nimbus', client: generator, trial: t + 1, ...flat(r) });
      if (floor) rows.push({ system: 'sink', client: generator, trial: t + 1, ...flat(floor) });
    }
  }
  for (const c of [sinkClients, clients]) {
    c.sdk.destroy();
    c.lean.destroy();
    c.raw.destroy();
    for (const r of c.rawPool ?? []) r.destroy();
  }
} finally {
  await nimbus.stop();
  await stop(sink, 2000);
  await rm(work, { recursive: true, force: true });
}
console.table(rows);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);

function flat({ up, down }) {
  return {
    upMiBps: up.mibPerSec,
    upServerMsPerMiB: up.serverMsPerMiB,
    upServerMainMsPerMiB: up.serverMainMsPerMiB,
    upClientMsPerMiB: up.clientMsPerMiB,
    downMiBps: down.mibPerSec,
    downServerMsPerMiB: down.serverMsPerMiB,
    downServerMainMsPerMiB: down.serverMainMsPerMiB,
    downClientMsPerMiB: down.clientMsPerMiB,
  };
}
