import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/** One file to store: either read from disk or given as bytes (a bundle built in memory). */
export type ZipSource =
  | { path: string; source: string; executable: boolean }
  | { path: string; content: Buffer; executable: boolean };

/**
 * The one timestamp every entry gets. Serverless uses `new Date(0)`, which the DOS date field
 * cannot hold (it starts in 1980), so yazl would clamp it anyway. The DOS field is written from
 * the machine's local time, so the date is built from local components: the stored value is
 * 1980-01-01 00:00:00 whatever the time zone. The Info-ZIP UTC timestamp field is turned off
 * (forceDosTimestamp) because it would store a time-zone-dependent instant.
 */
export function fixedEntryDate(): Date {
  return new Date(1980, 0, 1, 0, 0, 0);
}

/** Regular file bits plus 0755 or 0644: the owner's execute bit is the only one kept. */
export function entryMode(executable: boolean): number {
  return executable ? 0o100755 : 0o100644;
}

/**
 * Writes `entries` as a zip to `outPath` so the same inputs always give the same bytes: entries
 * sorted by path (code unit order), one fixed mtime, fixed modes, fixed compression level, no
 * directory entries (extractors create parents as needed). Returns the sha256 and size written.
 */
export async function writeDeterministicZip(
  entries: readonly ZipSource[],
  outPath: string,
): Promise<{ sha256: string; size: number }> {
  const zip = new yazl.ZipFile();
  const mtime = fixedEntryDate();
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.path === sorted[i - 1]?.path) {
      throw new Error(`two files would be stored as ${sorted[i]?.path} in ${outPath}`);
    }
  }
  for (const entry of sorted) {
    const options = {
      mtime,
      mode: entryMode(entry.executable),
      compress: true,
      compressionLevel: 6,
      forceDosTimestamp: true,
    };
    if ('content' in entry) zip.addBuffer(entry.content, entry.path, options);
    else zip.addFile(entry.source, entry.path, options);
  }
  zip.end();

  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(zip.outputStream, tap, createWriteStream(outPath));
  return { sha256: hash.digest('hex'), size };
}
