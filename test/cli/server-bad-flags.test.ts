/**
 * `nimbus server` refuses bad storage and TLS flags with one clear line and a non-zero exit,
 * before anything starts: no data dir is made, nothing listens.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { makeSelfSignedCert } from '../helpers/self-signed-cert.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('nimbus server refuses bad flags before starting', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let tls: string[];
  let domain: { cert: string; key: string };
  let garbageCert: string;
  let directoryCert: string;

  before(async () => {
    tmp = await makeTempDir();
    const main = await makeSelfSignedCert(tmp.dir, 'main', 'nimbus-main', ['127.0.0.1']);
    domain = await makeSelfSignedCert(tmp.dir, 'api', 'api', ['api.example.test']);
    tls = ['--tls-cert', main.cert, '--tls-key', main.key, '--tls-port', '0'];
    garbageCert = join(tmp.dir, 'garbage.crt');
    await writeFile(garbageCert, 'this is not a PEM certificate\n');
    directoryCert = join(tmp.dir, 'a-directory.crt');
    await mkdir(directoryCert);
  });
  after(async () => {
    await tmp.cleanup();
  });

  const cases: [string, () => string[], RegExp][] = [
    [
      'an unknown --sqlite-synchronous mode',
      () => ['--sqlite-synchronous', 'off'],
      /^✖ --sqlite-synchronous must be full or normal, not "off"\n$/,
    ],
    [
      '--sqlite-synchronous with a postgres store',
      () => [
        '--sqlite-synchronous',
        'normal',
        '--database-url',
        'postgres://nimbus:secret@127.0.0.1:1/nimbus',
      ],
      /^✖ --sqlite-synchronous is for the SQLite store, not a postgres:\/\/ one\n$/,
    ],
    [
      'a --tls-domain without =',
      () => [...tls, '--tls-domain', `api.example.test:${domain.cert},${domain.key}`],
      /^✖ --tls-domain api\.example\.test:\S+: expected host=cert\.pem,key\.pem/,
    ],
    [
      'a --tls-domain without its key file',
      () => [...tls, '--tls-domain', `api.example.test=${domain.cert},${join(tmp.dir, 'no.key')}`],
      /^✖ --tls-domain api\.example\.test \(key\) \S+no\.key: ENOENT/,
    ],
    [
      'a --tls-domain whose cert is not PEM',
      () => [...tls, '--tls-domain', `api.example.test=${garbageCert},${domain.key}`],
      /^✖ --tls-domain api\.example\.test \(cert\)\/--tls-domain api\.example\.test \(key\): not a PEM certificate and its key/,
    ],
    [
      'a --tls-domain whose cert cannot be read',
      () => [...tls, '--tls-domain', `api.example.test=${directoryCert},${domain.key}`],
      /^✖ --tls-domain api\.example\.test \(cert\) \S+a-directory\.crt: EISDIR/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(`refuses ${what}`, async () => {
      const dataDir = join(tmp.dir, 'data');
      const run = await runCli(
        ['server', '--port', '0', '--isolation', 'none', '--data-dir', dataDir, ...args()],
        { cwd: tmp.dir, env: { HOME: tmp.dir } },
      );
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.split('\n').filter(Boolean).length, 1, run.stderr);
      assert.doesNotMatch(run.stderr, /listening on/);
      assert.equal(existsSync(dataDir), false, 'nothing was started: no data dir');
    });
  }
});
