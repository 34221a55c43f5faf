/**
 * The AWS CLI (botocore: a second, independent SigV4 signer, XML parser and multipart uploader)
 * against S3 on a started platform. Skipped where no `aws` command is installed.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { type S3Platform, startS3Platform } from './s3-platform.js';

const run = promisify(execFile);
const awsVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' });
const skip = awsVersion.status === 0 ? false : 'the aws command (AWS CLI) is not installed';

describe('S3 through the AWS CLI', { skip }, () => {
  let s3: S3Platform;
  let dir: string;
  let cleanupDir: () => Promise<void>;

  /** `aws <args>` with a clean environment: no profile, our key, our endpoint. */
  const aws = async (...args: string[]) => {
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ACCESS_KEY_ID: s3.key.id,
      AWS_SECRET_ACCESS_KEY: s3.key.secret,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    };
    const { stdout } = await run('aws', [...args, '--endpoint-url', s3.platform.url], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  };

  before(async () => {
    s3 = await startS3Platform();
    const tmp = await makeTempDir();
    dir = tmp.dir;
    cleanupDir = tmp.cleanup;
  });
  after(async () => {
    await s3.close();
    await cleanupDir();
  });

  test('mb, cp up (multipart above 8 MB) and down, ls, rm, rb', async () => {
    await aws('s3', 'mb', 's3://cli-bucket');
    const small = join(dir, 'small.txt');
    await writeFile(small, 'from the aws cli\n');
    // Over the CLI's 8 MB threshold: a multipart upload of several parts.
    const big = join(dir, 'big.bin');
    const bigBytes = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < bigBytes.length; i += 4) bigBytes.writeUInt32LE(i, i);
    await writeFile(big, bigBytes);
    await aws('s3', 'cp', small, 's3://cli-bucket/docs/small.txt');
    await aws('s3', 'cp', big, 's3://cli-bucket/data/big.bin');

    const listing = await aws('s3', 'ls', 's3://cli-bucket', '--recursive');
    assert.match(listing, /docs\/small\.txt/);
    assert.match(listing, /data\/big\.bin/);
    const top = await aws('s3', 'ls', 's3://cli-bucket/');
    assert.match(top, /PRE data\//);
    assert.match(top, /PRE docs\//);

    const head = JSON.parse(
      await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'data/big.bin'),
    );
    assert.equal(head.ContentLength, bigBytes.length);
    assert.match(head.ETag, /^"[0-9a-f]{32}-\d+"$/);

    const back = join(dir, 'back.bin');
    await aws('s3', 'cp', 's3://cli-bucket/data/big.bin', back);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(sha(await readFile(back)), sha(bigBytes));
    const smallBack = join(dir, 'small-back.txt');
    await aws('s3', 'cp', 's3://cli-bucket/docs/small.txt', smallBack);
    assert.equal(await readFile(smallBack, 'utf8'), 'from the aws cli\n');

    await aws('s3', 'rm', 's3://cli-bucket', '--recursive');
    assert.equal((await aws('s3', 'ls', 's3://cli-bucket', '--recursive')).trim(), '');
    await aws('s3', 'rb', 's3://cli-bucket');
    assert.doesNotMatch(await aws('s3', 'ls'), /cli-bucket/);
  });
});
