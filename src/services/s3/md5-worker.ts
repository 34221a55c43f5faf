/**
 * The worker thread behind Md5Thread: MD5 (the S3 ETag) of upload bodies, one hash per session,
 * fed 1 MiB slabs of shared memory that the uploading thread is writing to disk meanwhile. MD5 is
 * the most expensive thing an upload does per byte (more than SHA-256 with the CPU's SHA
 * instructions); here it runs beside the request instead of inside it.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type Checksum, createChecksum } from '../../platform/aws/sigv4/checksum.js';
import type { Md5Reply, Md5Request } from './md5-thread.js';

interface Hashes {
  md5: Hash;
  checksum: Checksum | undefined;
}

const hashes = new Map<number, Hashes>();
const port = parentPort;
if (!port) throw new Error('md5-worker runs as a worker thread');

port.on('message', (m: Md5Request) => {
  const reply = (r: Md5Reply) => port.postMessage(r);
  try {
    if (m.op === 'update') {
      let hash = hashes.get(m.id);
      if (!hash) {
        hash = {
          md5: createHash('md5'),
          checksum: m.checksum === undefined ? undefined : createChecksum(m.checksum),
        };
        hashes.set(m.id, hash);
      }
      const bytes = Buffer.from(m.slab, 0, m.length);
      hash.md5.update(bytes);
      hash.checksum?.update(bytes);
      reply({ id: m.id, op: 'updated' });
    } else if (m.op === 'digest') {
      const hash = hashes.get(m.id);
      hashes.delete(m.id);
      const md5Hex = (hash?.md5 ?? createHash('md5')).digest('hex');
      const checksum = hash?.checksum?.digest();
      reply(
        checksum === undefined
          ? { id: m.id, op: 'digest', md5Hex }
          : { id: m.id, op: 'digest', md5Hex, checksum },
      );
    } else {
      hashes.delete(m.id);
    }
  } catch (error) {
    hashes.delete(m.id);
    reply({ id: m.id, op: 'failed', message: String((error as Error)?.message ?? error) });
  }
});
