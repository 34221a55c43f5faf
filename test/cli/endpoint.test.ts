import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveEndpoint } from '../../src/cli/endpoint.js';
import { defaultEndpoint } from '../../src/platform/config.js';
import { makeTempDir } from '../helpers/temp-dir.js';

test('endpoint: env, then ~/.nimbus/config.yml by region, then the local default with its token', async () => {
  const tmp = await makeTempDir();
  try {
    const home = join(tmp.dir, 'home');
    await mkdir(join(home, '.nimbus'), { recursive: true });
    await writeFile(
      join(home, '.nimbus', 'config.yml'),
      'regions:\n  eu-lab:\n    endpoint: http://lab.example:8642\n    token: lab-token\n',
    );
    const fromEnv = await resolveEndpoint('eu-lab', {
      HOME: home,
      NIMBUS_ENDPOINT: 'http://x:1',
      NIMBUS_TOKEN: 't',
    });
    assert.deepEqual([fromEnv.endpoint, fromEnv.token], ['http://x:1', 't']);

    const fromConfig = await resolveEndpoint('eu-lab', { HOME: home });
    assert.deepEqual(
      [fromConfig.endpoint, fromConfig.token],
      ['http://lab.example:8642', 'lab-token'],
    );

    const dataDir = join(tmp.dir, 'data');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'admin-token'), 'local-token\n', { mode: 0o600 });
    const local = await resolveEndpoint('us-east-1', { HOME: home, NIMBUS_DATA_DIR: dataDir });
    assert.deepEqual([local.endpoint, local.token], [defaultEndpoint, 'local-token']);

    await writeFile(
      join(home, '.nimbus', 'config.yml'),
      'regions:\n  eu-lab:\n    endpoint: ftp://nope\n',
    );
    await assert.rejects(
      resolveEndpoint('eu-lab', { HOME: home }),
      /regions\.eu-lab\.endpoint must be an http\(s\) URL/,
    );
    await writeFile(join(home, '.nimbus', 'config.yml'), 'regions: [\n');
    await assert.rejects(resolveEndpoint('eu-lab', { HOME: home }), /config\.yml/);
  } finally {
    await tmp.cleanup();
  }
});
