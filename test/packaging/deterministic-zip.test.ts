import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeDeterministicZip } from '../../src/packaging/deterministic-zip.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const moduleUrl = new URL('../../src/packaging/deterministic-zip.js', import.meta.url).href;

/** Writes the same small zip in a child process running in time zone `tz`; returns its bytes. */
async function zipInTimeZone(tz: string, outPath: string): Promise<Buffer> {
  const script = `
    import { writeDeterministicZip } from ${JSON.stringify(moduleUrl)};
    await writeDeterministicZip(
      [{ path: 'b.txt', content: Buffer.from('b'), executable: false },
       { path: 'a/x.sh', content: Buffer.from('#!/bin/sh'), executable: true }],
      ${JSON.stringify(outPath)},
    );`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, TZ: tz },
  });
  return readFile(outPath);
}

test('the bytes do not depend on the time zone of the machine', async () => {
  const tmp = await makeTempDir('nimbus-tz-');
  try {
    const west = await zipInTimeZone('America/Los_Angeles', join(tmp.dir, 'west.zip'));
    const east = await zipInTimeZone('Asia/Tokyo', join(tmp.dir, 'east.zip'));
    const utc = await zipInTimeZone('UTC', join(tmp.dir, 'utc.zip'));
    assert.deepEqual(west, east);
    assert.deepEqual(west, utc);
  } finally {
    await tmp.cleanup();
  }
});

test('two entries with the same path are refused', async () => {
  const tmp = await makeTempDir('nimbus-dup-');
  try {
    await assert.rejects(
      writeDeterministicZip(
        [
          { path: 'a', content: Buffer.from('1'), executable: false },
          { path: 'a', content: Buffer.from('2'), executable: false },
        ],
        join(tmp.dir, 'x.zip'),
      ),
      /two files would be stored as a/,
    );
  } finally {
    await tmp.cleanup();
  }
});
