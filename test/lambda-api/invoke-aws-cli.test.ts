/**
 * The AWS CLI (botocore: a second, independent SigV4 signer and response parser) against the
 * Invoke API. Skipped where no `aws` command is installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { CreatedAccessKey } from '../../src/platform/auth/access-key-store.js';
import { KyselyAccessKeyStore } from '../../src/platform/auth/kysely-access-key-store.js';
import { createRequestVerifier } from '../../src/platform/auth/request-verifier.js';
import { MiB } from '../../src/platform/config.js';
import { createLambdaApi } from '../../src/platform/lambda-api/lambda-api.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { FakeInvoker } from './fake-invoker.js';

const run = promisify(execFile);
const awsVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' });
const skip = awsVersion.status === 0 ? false : 'the aws command (AWS CLI) is not installed';

describe('Invoke API through the AWS CLI', { skip }, () => {
  let server: Server;
  let dir: string;
  let key: CreatedAccessKey;
  let cleanup: () => Promise<void>;
  const invoker = new FakeInvoker({
    echo: () => ({ logTail: 'START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\n' }),
  });

  /** `aws lambda invoke ... out.json` with a clean environment: no profile, our key. */
  const invoke = async (args: string[], secret = key.secret) => {
    const port = (server.address() as AddressInfo).port;
    const out = join(dir, 'out.json');
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ACCESS_KEY_ID: key.id,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    };
    const cmd = ['lambda', 'invoke', '--endpoint-url', `http://127.0.0.1:${port}`, ...args, out];
    try {
      const { stdout } = await run('aws', cmd, { env });
      return { ok: true, meta: JSON.parse(stdout), payload: await readFile(out, 'utf8') };
    } catch (error) {
      return { ok: false, stderr: String((error as { stderr?: string }).stderr) };
    }
  };

  before(async () => {
    const tmp = await makeTempDir();
    dir = tmp.dir;
    const db = await openSqliteDatabase({ file: join(dir, 'nimbus.db') });
    const clock = { now: () => Date.now() };
    const keys = new KyselyAccessKeyStore(db, randomBytes(32), clock);
    key = await keys.create();
    const api = createLambdaApi({
      invoker,
      verify: createRequestVerifier({ keys, adminToken: 'unused', clock }),
      maxSyncPayloadBytes: 6 * MiB,
    });
    server = createServer((req, res) => {
      void api(req, res, (req.url ?? '/').split('?')[0]!);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup = async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.destroy();
      await tmp.cleanup();
    };
  });
  after(() => cleanup?.());

  test('invoke with a payload, an ARN with a qualifier, and the log tail', async () => {
    // AWS CLI v2 reads --payload as base64 unless told otherwise; v1 takes it raw.
    const raw = /^aws-cli\/1\./.test(awsVersion.stdout + awsVersion.stderr)
      ? []
      : ['--cli-binary-format', 'raw-in-base64-out'];
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:echo';
    const result = await invoke([
      '--function-name',
      arn,
      '--qualifier',
      '$LATEST',
      '--log-type',
      'Tail',
      '--payload',
      '{"from":"aws cli","text":"ünï"}',
      ...raw,
    ]);
    assert.equal(result.ok, true, result.stderr);
    assert.deepEqual(JSON.parse(result.payload!), { from: 'aws cli', text: 'ünï' });
    assert.equal(result.meta.StatusCode, 200);
    assert.equal(result.meta.ExecutedVersion, '$LATEST');
    assert.match(Buffer.from(result.meta.LogResult, 'base64').toString(), /^START .*\nhello\n/);
    const call = invoker.calls.at(-1)!;
    assert.deepEqual([call.functionRef, call.qualifier], ['echo', '$LATEST']);
  });

  test('errors come out under their Lambda names', async () => {
    const missing = await invoke(['--function-name', 'nope']);
    assert.match(missing.stderr ?? '', /\(ResourceNotFoundException\).*function:nope/);
    const wrong = await invoke(['--function-name', 'echo'], 'x'.repeat(40));
    assert.match(wrong.stderr ?? '', /\(InvalidSignatureException\)/);
  });
});
