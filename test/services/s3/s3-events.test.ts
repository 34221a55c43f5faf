/**
 * `s3` events end to end: "upload an image; a function writes a thumbnail under thumbnails/",
 * with the SDK outside and inside the function (v3 from the platform, configured by env vars
 * alone; boto3 in a Python function where the machine has it).
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { nobody } from '../../../src/platform/pool/process-instance-factory.js';
import { pythonInterpreter } from '../../../src/platform/pool/runtime-interpreters.js';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { waitForValue, waitUntil } from '../../helpers/wait-for.js';
import { postForm } from './form-post.js';

// No endpoint, region or credentials in code: the platform's environment supplies them.
const thumbnailer = `
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({});
export async function handler(event) {
  for (const record of event.Records) {
    const bucket = record.s3.bucket.name;
    const key = decodeURIComponent(record.s3.object.key.replace(/\\+/g, ' '));
    const original = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await original.Body.transformToByteArray();
    const name = key.slice('uploads/'.length);
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'thumbnails/' + name, Body: Buffer.from(bytes).subarray(0, 4),
      ContentType: 'image/jpeg',
    }));
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'thumbnails/' + name + '.event.json', Body: JSON.stringify(record),
    }));
  }
}
`;
const removalLogger = `
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({});
export async function handler(event) {
  const r = event.Records[0];
  await s3.send(new PutObjectCommand({
    Bucket: r.s3.bucket.name, Key: 'removed/' + r.s3.object.key, Body: JSON.stringify(r),
  }));
}
`;
const botoThumbnailer = `
import json, urllib.parse, boto3
s3 = boto3.client('s3')
def handler(event, context):
    for record in event['Records']:
        bucket = record['s3']['bucket']['name']
        key = urllib.parse.unquote_plus(record['s3']['object']['key'])
        body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
        s3.put_object(Bucket=bucket, Key='py-thumbnails/' + key[len('py/'):], Body=body[:4])
`;

// The interpreter Python functions get, run as the user they run as (nobody under root).
const functionUser = process.getuid?.() === 0 ? nobody : undefined;
const hasBoto3 =
  spawnSync(pythonInterpreter(functionUser), ['-s', '-c', 'import boto3'], {
    stdio: 'ignore',
    ...(functionUser ?? {}),
  }).status === 0;

for (const variant of awsPlatformVariants) {
  describe(`s3 events (${variant.name})`, { skip: sdkSkip }, () => {
    let aws: AwsPlatform;
    let s3: S3Client;
    const bucket = 'photos';

    before(async () => {
      aws = await startAwsPlatform(variant, { runFunctions: true, label: 's3 events' });
      s3 = new S3Client({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      });
      // The deploy creates the bucket its first s3 event names (no `existing: true`), as the
      // Framework does; the others say `existing: true`.
      const s3Event = (config: Record<string, unknown>) => ({ kind: 's3' as const, config });
      await deployService(
        aws.platform,
        serviceDef([
          fnDef('thumbnail', {
            handler: 'thumbnail.handler',
            handlerFile: 'thumbnail.mjs',
            events: [
              s3Event({
                bucket,
                event: 's3:ObjectCreated:*',
                rules: [{ prefix: 'uploads/' }, { suffix: '.jpg' }],
              }),
            ],
          }),
          fnDef('removed', {
            handler: 'removed.handler',
            handlerFile: 'removed.mjs',
            events: [
              s3Event({
                bucket,
                event: 's3:ObjectRemoved:*',
                rules: [{ prefix: 'uploads/' }],
                existing: true,
              }),
            ],
          }),
          ...(hasBoto3
            ? [
                fnDef('boto', {
                  handler: 'boto.handler',
                  handlerFile: 'boto.py',
                  runtime: 'python3.11',
                  runtimeFamily: 'python' as const,
                  events: [
                    s3Event({
                      bucket,
                      event: 's3:ObjectCreated:Put',
                      rules: [{ prefix: 'py/' }],
                      existing: true,
                    }),
                  ],
                }),
              ]
            : []),
        ]),
        { 'thumbnail.mjs': thumbnailer, 'removed.mjs': removalLogger, 'boto.py': botoThumbnailer },
      );
    });
    after(async () => {
      s3?.destroy();
      await aws?.close();
    });

    const text = async (key: string) =>
      (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    const exists = async (key: string) => {
      try {
        await text(key);
        return true;
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return false;
        throw error;
      }
    };
    const keys = async (prefix: string) =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? [])
        .map((o) => o.Key!)
        .sort();

    test('upload an image; the function writes a thumbnail under thumbnails/ (SDK v3 inside, env only)', async () => {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'uploads/red flower.jpg', Body: 'JPEGDATA' }),
      );
      const record = JSON.parse(
        await waitForValue(
          async () =>
            (await exists('thumbnails/red flower.jpg.event.json'))
              ? text('thumbnails/red flower.jpg.event.json')
              : undefined,
          'the thumbnail',
          30_000,
        ),
      );
      assert.equal(await text('thumbnails/red flower.jpg'), 'JPEG');
      assert.equal(record.eventVersion, '2.1');
      assert.equal(record.eventSource, 'aws:s3');
      assert.equal(record.awsRegion, 'us-east-1');
      assert.equal(record.eventName, 'ObjectCreated:Put');
      assert.equal(record.s3.s3SchemaVersion, '1.0');
      assert.equal(record.s3.configurationId, 'svc-dev-thumbnail-s3-1');
      assert.deepEqual(record.s3.bucket.name, bucket);
      assert.equal(record.s3.bucket.arn, `arn:aws:s3:::${bucket}`);
      assert.equal(record.s3.object.key, 'uploads/red+flower.jpg');
      assert.equal(record.s3.object.size, 8);
      assert.equal(`"${record.s3.object.eTag}"`, put.ETag);
      assert.match(record.s3.object.sequencer, /^[0-9A-F]+$/);
      assert.equal(record.userIdentity.principalId, `AWS:${aws.key.id}`);
      assert.ok(!Number.isNaN(Date.parse(record.eventTime)));
    });

    test('non-matching keys fire nothing, and the function writing thumbnails/ does not loop', async () => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploads/notes.txt', Body: 'x' }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/a.jpg', Body: 'x' }));
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(await keys('thumbnails/'), [
        'thumbnails/red flower.jpg',
        'thumbnails/red flower.jpg.event.json',
      ]);
    });

    test('copy, presigned PUT, form POST and multipart completion each fire one event with their own name', async () => {
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: 'uploads/copy.jpg',
          CopySource: `${bucket}/uploads/red flower.jpg`,
        }),
      );
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: bucket, Key: 'uploads/presigned.jpg' }),
        { expiresIn: 300 },
      );
      assert.equal((await fetch(url, { method: 'PUT', body: 'PRESIGNED' })).status, 200);
      const signer = new S3Client({
        endpoint: `http://s3.localhost:${new URL(aws.platform.url).port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      });
      const post = await createPresignedPost(signer, { Bucket: bucket, Key: 'uploads/posted.jpg' });
      const form = new FormData();
      for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
      form.append('file', new Blob(['POSTEDJPEG']), 'posted.jpg');
      assert.equal((await postForm(aws.platform.url, post.url, form)).status, 204);
      const upload = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'uploads/multi.jpg' }),
      );
      const part = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'uploads/multi.jpg',
          UploadId: upload.UploadId,
          PartNumber: 1,
          Body: 'MULTIPART',
        }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: 'uploads/multi.jpg',
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      const names: Record<string, string> = {};
      for (const name of ['copy', 'presigned', 'posted', 'multi']) {
        const record = JSON.parse(
          await waitForValue(
            async () =>
              (await exists(`thumbnails/${name}.jpg.event.json`))
                ? text(`thumbnails/${name}.jpg.event.json`)
                : undefined,
            `the ${name} thumbnail`,
            30_000,
          ),
        );
        names[name] = record.eventName;
      }
      assert.deepEqual(names, {
        copy: 'ObjectCreated:Copy',
        presigned: 'ObjectCreated:Put',
        posted: 'ObjectCreated:Post',
        multi: 'ObjectCreated:CompleteMultipartUpload',
      });
      assert.equal(await text('thumbnails/presigned.jpg'), 'PRES');
      assert.equal(await text('thumbnails/posted.jpg'), 'POST');
      assert.equal(await text('thumbnails/multi.jpg'), 'MULT');
    });

    test('DeleteObject and DeleteObjects fire ObjectRemoved:Delete; deleting nothing fires nothing', async () => {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'uploads/copy.jpg' }));
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: {
            Objects: [{ Key: 'uploads/presigned.jpg' }, { Key: 'uploads/never-there.jpg' }],
          },
        }),
      );
      await waitUntil(
        async () => (await keys('removed/')).length >= 2,
        'the removal records',
        30_000,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      assert.deepEqual(await keys('removed/'), [
        'removed/uploads/copy.jpg',
        'removed/uploads/presigned.jpg',
      ]);
      const record = JSON.parse(await text('removed/uploads/copy.jpg'));
      assert.equal(record.eventName, 'ObjectRemoved:Delete');
      assert.equal(record.s3.object.size, undefined);
      assert.equal(record.s3.object.eTag, undefined);
    });

    test('a Python function with boto3 does the same from env vars alone', {
      skip: !hasBoto3 && 'boto3 is not installed',
    }, async () => {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'py/photo.jpg', Body: 'PYTHONJPEG' }),
      );
      await waitUntil(() => exists('py-thumbnails/photo.jpg'), 'the boto3 thumbnail', 30_000);
      assert.equal(await text('py-thumbnails/photo.jpg'), 'PYTH');
    });
  });
}
