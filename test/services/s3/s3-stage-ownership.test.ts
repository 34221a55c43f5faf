/**
 * Buckets belong to the service stage whose deploy created them: a function's session
 * credentials (scoped to its stage) reach its own stage's buckets and shared ones (made with an
 * unscoped access key), never another stage's (AccessDenied, 403), and ListBuckets shows it only
 * what it may reach. A `--stage`-scoped access key is held to the same check; a `--read-only`
 * one only reads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { deployService, makeKey } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { failure, type S3Platform, s3Variants, startS3Platform } from './s3-platform.js';

// Endpoint, region and credentials come from the function's environment alone.
const probe = `
import {
  S3Client, GetObjectCommand, PutObjectCommand, ListBucketsCommand, ListObjectsV2Command,
  CopyObjectCommand, DeleteObjectCommand, CreateBucketCommand, HeadBucketCommand,
} from '@aws-sdk/client-s3';
const s3 = new S3Client({});
const attempt = async (run) => {
  try {
    const value = await run();
    return typeof value === 'string' ? value : 'ok';
  } catch (e) {
    return e.$metadata?.httpStatusCode + ' ' + (e.Code ?? e.name);
  }
};
const read = (Bucket) => async () =>
  (await s3.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body.transformToString();
export async function handler({ own, other, shared, made }) {
  return {
    readOwn: await attempt(read(own)),
    readShared: await attempt(read(shared)),
    readOther: await attempt(read(other)),
    writeOther: await attempt(() => s3.send(new PutObjectCommand({ Bucket: other, Key: 'x', Body: 'x' }))),
    deleteOther: await attempt(() => s3.send(new DeleteObjectCommand({ Bucket: other, Key: 'k' }))),
    listOther: await attempt(() => s3.send(new ListObjectsV2Command({ Bucket: other }))),
    headOther: await attempt(() => s3.send(new HeadBucketCommand({ Bucket: other }))),
    copyFromOther: await attempt(() =>
      s3.send(new CopyObjectCommand({ Bucket: own, Key: 'copied', CopySource: other + '/k' })),
    ),
    createOwn: await attempt(() => s3.send(new CreateBucketCommand({ Bucket: made }))),
    buckets: (await s3.send(new ListBucketsCommand({}))).Buckets.map((b) => b.Name).sort(),
  };
}
`;

interface ProbeResult {
  readOwn: string;
  readShared: string;
  readOther: string;
  writeOther: string;
  deleteOther: string;
  listOther: string;
  headOther: string;
  copyFromOther: string;
  createOwn: string;
  buckets: string[];
}

for (const variant of s3Variants) {
  describe(`s3 buckets belong to their service stage (${variant.name})`, { skip: sdkSkip }, () => {
    let aws: S3Platform;
    let admin: S3Client;
    let lambda: LambdaClient;

    before(async () => {
      aws = await startS3Platform(variant, { runFunctions: true });
      // Idle while functions run: a kept-alive socket the server closed meanwhile is retried.
      admin = aws.client({ maxAttempts: 3 });
      lambda = new LambdaClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      });
      for (const stage of ['a', 'b']) {
        await deployService(
          aws.platform,
          serviceDef(
            [
              fnDef('probe', {
                name: `svc-${stage}-probe`,
                handler: 'probe.handler',
                handlerFile: 'probe.mjs',
                // A cold start and ten S3 calls, on a loaded machine too.
                timeout: 60,
              }),
            ],
            {
              stage,
              resources: {
                Resources: {
                  Data: {
                    Type: 'AWS::S3::Bucket',
                    Properties: { BucketName: `stage-${stage}-data` },
                  },
                },
              },
            },
          ),
          { 'probe.mjs': probe },
        );
        await admin.send(
          new PutObjectCommand({ Bucket: `stage-${stage}-data`, Key: 'k', Body: stage }),
        );
      }
      // An unscoped access key's bucket is shared.
      await admin.send(new CreateBucketCommand({ Bucket: 'shared-bucket' }));
      await admin.send(new PutObjectCommand({ Bucket: 'shared-bucket', Key: 'k', Body: 'shared' }));
    });
    after(async () => {
      admin?.destroy();
      lambda?.destroy();
      await aws?.close();
    });

    const invoke = async (stage: string, payload: object): Promise<ProbeResult> => {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: `svc-${stage}-probe`,
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      const text = Buffer.from(out.Payload ?? []).toString();
      assert.equal(out.FunctionError, undefined, text);
      return JSON.parse(text) as ProbeResult;
    };

    test("a function reads its own stage's bucket and shared ones, never another stage's", async () => {
      const a = await invoke('a', {
        own: 'stage-a-data',
        other: 'stage-b-data',
        shared: 'shared-bucket',
        made: 'made-by-a',
      });
      assert.equal(a.readOwn, 'a');
      assert.equal(a.readShared, 'shared');
      assert.equal(a.readOther, '403 AccessDenied');
      assert.equal(a.writeOther, '403 AccessDenied');
      assert.equal(a.deleteOther, '403 AccessDenied');
      assert.equal(a.listOther, '403 AccessDenied');
      assert.match(a.headOther, /^403 /);
      assert.equal(a.copyFromOther, '403 AccessDenied');
      assert.equal(a.createOwn, 'ok');
      assert.deepEqual(a.buckets, ['made-by-a', 'shared-bucket', 'stage-a-data']);

      // Stage b's function sees neither stage a's deployed bucket nor the one a's function made.
      const b = await invoke('b', {
        own: 'stage-b-data',
        other: 'made-by-a',
        shared: 'shared-bucket',
        made: 'made-by-b',
      });
      assert.equal(b.readOwn, 'b');
      assert.equal(b.writeOther, '403 AccessDenied');
      assert.deepEqual(b.buckets, ['made-by-b', 'shared-bucket', 'stage-b-data']);

      // Nothing of stage b changed; the unscoped key still sees every bucket.
      const kept = await admin.send(new GetObjectCommand({ Bucket: 'stage-b-data', Key: 'k' }));
      assert.equal(await kept.Body!.transformToString(), 'b');
      const all = (await admin.send(new ListBucketsCommand({}))).Buckets!.map((x) => x.Name);
      assert.deepEqual(all.sort(), [
        'made-by-a',
        'made-by-b',
        'shared-bucket',
        'stage-a-data',
        'stage-b-data',
      ]);
    });

    test('a stage-scoped access key is held to its stage; a read-only one only reads', async () => {
      const clientOf = async (scope: Parameters<typeof makeKey>[2]) => {
        const key = await makeKey(aws.platform, 'stage owners', scope);
        return aws.client({ credentials: { accessKeyId: key.id, secretAccessKey: key.secret } });
      };
      const stageB = await clientOf({ service: 'svc', stage: 'b' });
      const readOnly = await clientOf({ readOnly: true });
      try {
        const got = await stageB.send(new GetObjectCommand({ Bucket: 'stage-b-data', Key: 'k' }));
        assert.equal(await got.Body!.transformToString(), 'b');
        const denied = await failure(() =>
          stageB.send(new GetObjectCommand({ Bucket: 'stage-a-data', Key: 'k' })),
        );
        assert.equal(denied.name, 'AccessDenied');
        assert.equal(denied.$metadata.httpStatusCode, 403);
        const read = await readOnly.send(
          new GetObjectCommand({ Bucket: 'stage-a-data', Key: 'k' }),
        );
        assert.equal(await read.Body!.transformToString(), 'a');
        const refused = await failure(() =>
          readOnly.send(new PutObjectCommand({ Bucket: 'stage-a-data', Key: 'n', Body: 'n' })),
        );
        assert.equal(refused.name, 'AccessDenied');
      } finally {
        stageB.destroy();
        readOnly.destroy();
      }
    });
  });
}
