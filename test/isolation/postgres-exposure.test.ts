import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { startPlatform } from '../../src/platform/server.js';
import { makeTestSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

test('a PostgreSQL store without a password, as superuser, is warned about at start', async () => {
  const tmp = await makeTempDir();
  const pgSchema = await makeTestSchema();
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  // The test server is the kind the warning is for: trust authentication, the postgres role.
  const url = new URL(pgSchema.url);
  url.searchParams.set('schema', pgSchema.schema);
  const platform = await startPlatform({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(tmp.dir, 'data'),
    databaseUrl: url.toString(),
    logger: pino({ level: 'info' }, sink),
  });
  try {
    const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
    assert.ok(
      warnings.some((m) => /no password/.test(m)),
      `warnings: ${JSON.stringify(warnings)}`,
    );
    if (url.password === '' && url.username === 'postgres') {
      assert.ok(
        warnings.some((m) => /superuser/.test(m)),
        `warnings: ${JSON.stringify(warnings)}`,
      );
    }
  } finally {
    await platform.close();
    await pgSchema.drop();
    await tmp.cleanup();
  }
});
