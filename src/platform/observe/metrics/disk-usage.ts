import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../../../model/clock.js';
import type { Database } from '../../../store/schema.js';

export interface DiskUsage {
  /** `blobs` (code artifacts), `blob-cache` (local copies of shared blobs), `logs`. */
  what: string;
  bytes: number;
}

export interface DiskUsageDeps {
  db: Kysely<Database>;
  flavor: 'sqlite' | 'postgres';
  /** The data dir's blob folder: the blobs themselves, or their cache when they live in PostgreSQL. */
  blobDir: string;
  blobsInPostgres: boolean;
  /** In an S3 bucket (`--blobs s3://...`): the folder is only their cache; the bucket is not measured. */
  blobsInS3?: boolean;
  clock: Clock;
  /** Measuring walks a folder and asks the database: done at most once per this period. */
  cacheMs?: number;
}

/**
 * Disk used by code artifacts and log lines, for the metrics and the console's platform page.
 * Measured at scrape time, never on a request's path, and cached: a blob folder of many
 * versions takes a while to walk.
 */
export function diskUsageReader(deps: DiskUsageDeps): () => Promise<DiskUsage[]> {
  const cacheMs = deps.cacheMs ?? 60_000;
  let last: { at: number; value: Promise<DiskUsage[]> } | undefined;
  return () => {
    const now = deps.clock.now();
    if (!last || now - last.at >= cacheMs) {
      const value = measure(deps);
      last = { at: now, value };
      // A failed measurement is not kept: the next scrape tries again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

async function measure(deps: DiskUsageDeps): Promise<DiskUsage[]> {
  const local = await folderBytes(deps.blobDir);
  const out: DiskUsage[] = [];
  if (deps.blobsInPostgres) {
    out.push({ what: 'blobs', bytes: await tableBytes(deps, 'blob_chunks') });
    out.push({ what: 'blob-cache', bytes: local });
  } else if (deps.blobsInS3) {
    out.push({ what: 'blob-cache', bytes: local });
  } else {
    out.push({ what: 'blobs', bytes: local });
  }
  out.push({ what: 'logs', bytes: await tableBytes(deps, 'log_events') });
  return out;
}

/** A table with its indexes (and, on PostgreSQL, its TOAST data). */
async function tableBytes(deps: DiskUsageDeps, table: string): Promise<number> {
  const { rows } =
    deps.flavor === 'postgres'
      ? await sql<{
          bytes: unknown;
        }>`select pg_total_relation_size(${table}::regclass) as bytes`.execute(deps.db)
      : await sql<{ bytes: unknown }>`select coalesce(sum(pgsize), 0) as bytes from dbstat
          where name in (select name from sqlite_master where tbl_name = ${table})`.execute(
          deps.db,
        );
  return Number(rows[0]?.bytes ?? 0);
}

/** Sizes of the regular files under `dir`; links are not followed, a missing dir is 0. */
async function folderBytes(dir: string): Promise<number> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await folderBytes(path);
    else if (e.isFile()) total += (await lstat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
