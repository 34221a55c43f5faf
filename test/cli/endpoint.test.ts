import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { normalizeEndpoint, resolveEndpoint } from '../../src/cli/endpoint.js';
import { recordLocalEndpoint } from '../../src/cli/local-endpoint.js';
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

test('endpoint: host:port means http://host:port; other schemes are explained', () => {
  assert.equal(normalizeEndpoint('127.0.0.1:9000', 'NIMBUS_ENDPOINT'), 'http://127.0.0.1:9000');
  assert.equal(normalizeEndpoint('https://nimbus.lan/', 'x'), 'https://nimbus.lan');
  assert.throws(
    () => normalizeEndpoint('ftp://a', 'NIMBUS_ENDPOINT'),
    /NIMBUS_ENDPOINT: "ftp:\/\/a" must be an http:\/\/ or https:\/\/ URL/,
  );
  assert.throws(
    () => normalizeEndpoint('http://', '--endpoint'),
    /--endpoint: "http:\/\/" is not a URL/,
  );
});

test('endpoint: the local default is the one nimbus server recorded, with its token', async () => {
  const tmp = await makeTempDir();
  try {
    const dataDir = join(tmp.dir, 'data');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'admin-token'), 'local-token\n', { mode: 0o600 });
    assert.equal(
      await recordLocalEndpoint(dataDir, 'http://0.0.0.0:9100'),
      'http://127.0.0.1:9100',
    );
    const env = { HOME: tmp.dir, NIMBUS_DATA_DIR: dataDir };
    const local = await resolveEndpoint('us-east-1', env);
    assert.deepEqual([local.endpoint, local.token], ['http://127.0.0.1:9100', 'local-token']);
    // NIMBUS_ENDPOINT alone on loopback takes the local token; a remote one never gets it.
    const loop = await resolveEndpoint('us-east-1', { ...env, NIMBUS_ENDPOINT: 'localhost:1' });
    assert.equal(loop.token, 'local-token');
    const remote = await resolveEndpoint('us-east-1', { ...env, NIMBUS_ENDPOINT: 'nimbus.lan:1' });
    assert.equal(remote.token, undefined);
  } finally {
    await tmp.cleanup();
  }
});
