/** Zips that cannot be extracted are refused at upload, not stored to fail every request. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RunningPlatform } from '../../src/platform/server.js';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { type RawEntry, rawZip } from '../packaging/raw-zip.js';

const link = 0o120777;
const dir = 0o040755;

describe('artifact upload refuses zips that cannot be extracted', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ platform, close: cleanup } = await startCliPlatform({
      options: {
        zipLimits: {
          maxZippedBytes: 1024 * 1024,
          maxUnzippedBytes: 4 * 1024 * 1024,
          maxEntries: 20,
        },
      },
    }));
  });
  after(() => cleanup());

  const upload = async (zip: Buffer) => {
    const sha = createHash('sha256').update(zip).digest('hex');
    const res = await fetch(`${platform.url}/v1/artifacts/${sha}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      body: zip,
    });
    const head = await fetch(`${platform.url}/v1/artifacts/${sha}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: string; message: string } },
      stored: head.status === 200,
    };
  };

  const cases: [string, RawEntry[], string, RegExp][] = [
    [
      'the same entry twice',
      [
        { name: 'handler.js', data: 'a' },
        { name: 'handler.js', data: 'b' },
      ],
      'NIMBUS_ARTIFACT_INVALID',
      /appears twice/,
    ],
    [
      'a file and a directory of the same name',
      [
        { name: 'lib', data: 'x' },
        { name: 'lib/', mode: dir },
      ],
      'NIMBUS_ARTIFACT_INVALID',
      /both a file and a directory/,
    ],
    [
      'an entry under a file',
      [
        { name: 'lib', data: 'x' },
        { name: 'lib/a.js', data: 'y' },
      ],
      'NIMBUS_ARTIFACT_INVALID',
      /lies under "lib"/,
    ],
    [
      'a symlink chain that escapes once resolved',
      [
        { name: 'here', data: '.', mode: link },
        { name: 'up', data: 'here/..', mode: link },
      ],
      'NIMBUS_ARTIFACT_UNSAFE_PATH',
      /resolves outside/,
    ],
    [
      'an entry larger than declared',
      [{ name: 'liar.js', data: Buffer.alloc(100), deflate: true, declaredSize: 10 }],
      'NIMBUS_ARTIFACT_INVALID',
      /declared size/,
    ],
    [
      'more entries than the cap',
      Array.from({ length: 21 }, (_, i) => ({ name: `f${i}.js`, data: '' })),
      'NIMBUS_ARTIFACT_TOO_LARGE',
      /21 entries, over the 20 limit/,
    ],
  ];
  for (const [what, entries, code, message] of cases) {
    test(`${what}: refused with 400/413, not stored`, async () => {
      const out = await upload(rawZip(entries));
      assert.equal(out.body.error?.code, code, JSON.stringify(out.body));
      assert.match(out.body.error?.message ?? '', message);
      assert.equal(out.stored, false);
    });
  }

  test('a sound zip is stored', async () => {
    const out = await upload(
      rawZip([
        { name: 'lib/a.js', data: 'x' },
        { name: 'b.js', data: 'y' },
      ]),
    );
    assert.equal(out.status, 201, JSON.stringify(out.body));
    assert.equal(out.stored, true);
  });
});
