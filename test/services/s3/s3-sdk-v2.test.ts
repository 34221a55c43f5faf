/**
 * The legacy AWS SDK for JavaScript v2 (`aws-sdk`, in maintenance but still bundled by many
 * functions) against Nimbus: path style (`s3ForcePathStyle`) and virtual-host style through the
 * endpoint, presigned URLs, managed multipart uploads; and inside a function that bundles it,
 * which reaches Nimbus with no code change because the Node bootstrap points it at the platform
 * (docs/runtimes.md). On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import AWS from 'aws-sdk';
import { type AwsPlatform, deployService, startAwsPlatform } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { s3Variants } from './s3-platform.js';

/** `*.s3.localhost` may not resolve here: every name the agent connects to is loopback. */
const loopback = new Agent({
  lookup: ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
    options.all
      ? callback(null, [{ address: '127.0.0.1', family: 4 }])
      : callback(null, '127.0.0.1', 4)) as never,
});

for (const variant of s3Variants)
  describe(`aws-sdk v2 against S3 on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let pathStyle: AWS.S3;
    let hosted: AWS.S3;

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 'sdk-v2' });
      const credentials = new AWS.Credentials(aws.key.id, aws.key.secret);
      const common = { region: 'us-east-1', credentials, signatureVersion: 'v4', maxRetries: 0 };
      pathStyle = new AWS.S3({ ...common, endpoint: aws.platform.url, s3ForcePathStyle: true });
      const port = new URL(aws.platform.url).port;
      hosted = new AWS.S3({
        ...common,
        endpoint: `http://s3.localhost:${port}`,
        httpOptions: { agent: loopback },
      });
      await pathStyle.createBucket({ Bucket: 'v2-bucket' }).promise();
    });
    after(async () => {
      loopback.destroy();
      await aws?.close();
    });

    test('put, get, head, list, copy and delete, path style', async () => {
      const put = await pathStyle
        .putObject({
          Bucket: 'v2-bucket',
          Key: 'docs/a b.txt',
          Body: 'hello v2',
          ContentType: 'text/plain',
          Metadata: { owner: 'ana' },
        })
        .promise();
      assert.equal(put.ETag, `"${createHash('md5').update('hello v2').digest('hex')}"`);
      const got = await pathStyle.getObject({ Bucket: 'v2-bucket', Key: 'docs/a b.txt' }).promise();
      assert.equal(got.Body?.toString(), 'hello v2');
      assert.equal(got.ContentType, 'text/plain');
      assert.deepEqual(got.Metadata, { owner: 'ana' });
      const ranged = await pathStyle
        .getObject({ Bucket: 'v2-bucket', Key: 'docs/a b.txt', Range: 'bytes=6-7' })
        .promise();
      assert.equal(ranged.Body?.toString(), 'v2');
      const head = await pathStyle
        .headObject({ Bucket: 'v2-bucket', Key: 'docs/a b.txt' })
        .promise();
      assert.equal(head.ContentLength, 8);
      await pathStyle
        .copyObject({
          Bucket: 'v2-bucket',
          Key: 'docs/copy.txt',
          CopySource: 'v2-bucket/docs/a%20b.txt',
        })
        .promise();
      const listed = await pathStyle
        .listObjectsV2({ Bucket: 'v2-bucket', Prefix: 'docs/' })
        .promise();
      assert.deepEqual(
        listed.Contents?.map((c) => c.Key),
        ['docs/a b.txt', 'docs/copy.txt'],
      );
      const v1 = await pathStyle.listObjects({ Bucket: 'v2-bucket', Delimiter: '/' }).promise();
      assert.deepEqual(
        v1.CommonPrefixes?.map((p) => p.Prefix),
        ['docs/'],
      );
      const buckets = await pathStyle.listBuckets().promise();
      assert.ok(buckets.Buckets?.some((b) => b.Name === 'v2-bucket'));

      const missing = await pathStyle
        .getObject({ Bucket: 'v2-bucket', Key: 'nope' })
        .promise()
        .then(
          () => assert.fail('expected NoSuchKey'),
          (e: AWS.AWSError) => e,
        );
      assert.equal(missing.code, 'NoSuchKey');
      assert.equal(missing.statusCode, 404);

      await pathStyle.deleteObject({ Bucket: 'v2-bucket', Key: 'docs/copy.txt' }).promise();
      const deleted = await pathStyle
        .deleteObjects({
          Bucket: 'v2-bucket',
          Delete: { Objects: [{ Key: 'docs/a b.txt' }, { Key: 'never-there' }] },
        })
        .promise();
      assert.deepEqual(deleted.Deleted?.map((d) => d.Key).sort(), ['docs/a b.txt', 'never-there']);
      const empty = await pathStyle
        .listObjectsV2({ Bucket: 'v2-bucket', Prefix: 'docs/' })
        .promise();
      assert.equal(empty.KeyCount, 0);
    });

    test('virtual-host style through the endpoint: <bucket>.s3.localhost', async () => {
      const request = hosted.putObject({ Bucket: 'v2-bucket', Key: 'hosted.txt', Body: 'vhost' });
      let host = '';
      request.on('sign', () => {
        host = request.httpRequest.endpoint.host;
      });
      await request.promise();
      assert.equal(host, `v2-bucket.s3.localhost:${new URL(aws.platform.url).port}`);
      const got = await pathStyle.getObject({ Bucket: 'v2-bucket', Key: 'hosted.txt' }).promise();
      assert.equal(got.Body?.toString(), 'vhost');
      const listed = await hosted.listObjectsV2({ Bucket: 'v2-bucket' }).promise();
      assert.ok(listed.Contents?.some((c) => c.Key === 'hosted.txt'));
      await hosted.deleteObject({ Bucket: 'v2-bucket', Key: 'hosted.txt' }).promise();
    });

    test('managed multipart upload (s3.upload) and the low-level multipart calls', async () => {
      const body = randomBytes(11 * 1024 * 1024 + 17);
      const md5 = (b: Buffer) => createHash('md5').update(b).digest();
      const uploaded = await pathStyle
        .upload(
          { Bucket: 'v2-bucket', Key: 'big.bin', Body: body },
          { partSize: 5 * 1024 * 1024, queueSize: 2 },
        )
        .promise();
      const parts = [0, 1, 2].map((i) =>
        md5(body.subarray(i * 5 * 1024 * 1024, (i + 1) * 5 * 1024 * 1024)),
      );
      const expected = `"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-3"`;
      assert.equal(uploaded.ETag, expected);
      const got = await pathStyle.getObject({ Bucket: 'v2-bucket', Key: 'big.bin' }).promise();
      assert.ok(Buffer.compare(got.Body as Buffer, body) === 0, 'bytes round-trip');

      const created = await pathStyle
        .createMultipartUpload({ Bucket: 'v2-bucket', Key: 'parts.bin' })
        .promise();
      const one = await pathStyle
        .uploadPart({
          Bucket: 'v2-bucket',
          Key: 'parts.bin',
          UploadId: created.UploadId!,
          PartNumber: 1,
          Body: 'only part',
        })
        .promise();
      const listedParts = await pathStyle
        .listParts({ Bucket: 'v2-bucket', Key: 'parts.bin', UploadId: created.UploadId! })
        .promise();
      assert.deepEqual(
        listedParts.Parts?.map((p) => p.ETag),
        [one.ETag],
      );
      await pathStyle
        .completeMultipartUpload({
          Bucket: 'v2-bucket',
          Key: 'parts.bin',
          UploadId: created.UploadId!,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: one.ETag! }] },
        })
        .promise();
      const small = await pathStyle.getObject({ Bucket: 'v2-bucket', Key: 'parts.bin' }).promise();
      assert.equal(small.Body?.toString(), 'only part');

      const aborted = await pathStyle
        .createMultipartUpload({ Bucket: 'v2-bucket', Key: 'gone.bin' })
        .promise();
      await pathStyle
        .abortMultipartUpload({ Bucket: 'v2-bucket', Key: 'gone.bin', UploadId: aborted.UploadId! })
        .promise();
      const uploads = await pathStyle.listMultipartUploads({ Bucket: 'v2-bucket' }).promise();
      assert.deepEqual(uploads.Uploads, []);
    });

    test('presigned PUT and GET URLs', async () => {
      const putUrl = await pathStyle.getSignedUrlPromise('putObject', {
        Bucket: 'v2-bucket',
        Key: 'signed/one.txt',
        Expires: 300,
      });
      assert.match(putUrl, /X-Amz-Credential=/);
      const stored = await fetch(putUrl, { method: 'PUT', body: 'presigned by v2' });
      assert.equal(stored.status, 200, await stored.text());
      const getUrl = await hosted.getSignedUrlPromise('getObject', {
        Bucket: 'v2-bucket',
        Key: 'signed/one.txt',
        Expires: 300,
      });
      // A virtual-host URL: fetched from the platform's address with its Host kept.
      const target = new URL(getUrl);
      assert.equal(target.hostname, 'v2-bucket.s3.localhost');
      const pathGet = await pathStyle.getSignedUrlPromise('getObject', {
        Bucket: 'v2-bucket',
        Key: 'signed/one.txt',
        Expires: 300,
      });
      const got = await fetch(pathGet);
      assert.equal(await got.text(), 'presigned by v2');
      const tampered = await fetch(pathGet.replace('one.txt', 'two.txt'));
      assert.equal(tampered.status, 403);
    });
  });

/**
 * The function bundles aws-sdk v2 in its own node_modules. Copying the whole package into the
 * artifact would be 90 MB per deploy: the bundled module is this checkout's real aws-sdk,
 * required through a one-line package under the function's node_modules, so
 * `require('aws-sdk')` in the function is what the bootstrap sees.
 */
const handler = `
const AWS = require('aws-sdk');
const s3 = new AWS.S3();
exports.roundTrip = async (event) => {
  await s3.putObject({ Bucket: event.bucket, Key: event.key, Body: 'from v2 inside' }).promise();
  const got = await s3.getObject({ Bucket: event.bucket, Key: event.key }).promise();
  const listed = await s3.listObjectsV2({ Bucket: event.bucket }).promise();
  return {
    body: got.Body.toString(),
    keys: listed.Contents.map((c) => c.Key),
    endpoint: s3.endpoint.href,
    version: AWS.VERSION,
  };
};
`;

for (const variant of s3Variants)
  describe(`aws-sdk v2 bundled in a function, on ${variant.name}`, { skip: sdkSkip }, () => {
    let aws: AwsPlatform;
    let lambda: LambdaClient;
    let s3: AWS.S3;

    before(async () => {
      aws = await startAwsPlatform(variant, { runFunctions: true, label: 'sdk-v2-fn' });
      const credentials = { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret };
      lambda = new LambdaClient({ endpoint: aws.platform.url, region: 'us-east-1', credentials });
      s3 = new AWS.S3({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        s3ForcePathStyle: true,
        signatureVersion: 'v4',
        credentials: new AWS.Credentials(credentials.accessKeyId, credentials.secretAccessKey),
      });
      await s3.createBucket({ Bucket: 'v2-inside' }).promise();
      await deployService(aws.platform, serviceDef([fnDef('roundTrip')]), {
        'handler.js': handler,
        'node_modules/aws-sdk/package.json': '{"name":"aws-sdk","main":"index.js"}',
        'node_modules/aws-sdk/index.js': `module.exports = require(${JSON.stringify(
          join(repoRoot, 'node_modules', 'aws-sdk'),
        )});`,
      });
    });
    after(async () => {
      lambda?.destroy();
      await aws?.close();
    });

    test('require("aws-sdk") with no endpoint in code reaches the platform with its session credentials', async () => {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: 'svc-dev-roundTrip',
          Payload: Buffer.from(JSON.stringify({ bucket: 'v2-inside', key: 'inside.txt' })),
        }),
      );
      const text = Buffer.from(out.Payload ?? []).toString();
      assert.equal(out.FunctionError, undefined, text);
      const result = JSON.parse(text) as {
        body: string;
        keys: string[];
        endpoint: string;
        version: string;
      };
      assert.equal(result.body, 'from v2 inside');
      assert.deepEqual(result.keys, ['inside.txt']);
      assert.equal(result.version, (AWS as unknown as { VERSION: string }).VERSION);
      assert.equal(new URL(result.endpoint).origin, new URL(aws.platform.url).origin);
      const got = await s3.getObject({ Bucket: 'v2-inside', Key: 'inside.txt' }).promise();
      assert.equal(got.Body?.toString(), 'from v2 inside');
    });
  });
