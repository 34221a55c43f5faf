/**
 * SDKs inside functions reach Nimbus unchanged: every instance gets the platform's URL as its
 * AWS endpoint and session credentials scoped to its service stage; Node functions import
 * `@aws-sdk/*` v3 without bundling it (ESM and CommonJS), and their own copy wins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import {
  functionEndpoint,
  plannedFunctionEndpoint,
} from '../../src/platform/invoker/function-aws-environment.js';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { sdkSkip } from '../helpers/function-reach.js';

const esm = `
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({});
export async function put(event) {
  await s3.send(new PutObjectCommand({ Bucket: event.bucket, Key: event.key, Body: 'from inside' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: event.bucket, Key: event.key }));
  return { body: await got.Body.transformToString() };
}
`;
const cjs = `
const { SQSClient, ListQueuesCommand } = require('@aws-sdk/client-sqs');
const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
exports.env = async () => {
  const queues = await new SQSClient({}).send(new ListQueuesCommand({}));
  const tables = await new DynamoDBClient({}).send(new ListTablesCommand({}));
  const pick = (p) => Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith(p)));
  return { aws: pick('AWS_'), nimbus: pick('NIMBUS'), queues: queues.QueueUrls ?? [], tables: tables.TableNames };
};
`;
// The function's own @aws-sdk/client-sns wins over the platform's.
const ownSns = `exports.SNSClient = class { constructor() { this.own = true; } };`;
const own = `
const { SNSClient } = require('@aws-sdk/client-sns');
exports.own = async () => ({ own: new SNSClient({}).own === true });
`;

test('the endpoint functions get is an IP address the platform listens on', () => {
  assert.equal(functionEndpoint('http://0.0.0.0:8642'), 'http://127.0.0.1:8642');
  assert.equal(functionEndpoint('http://[::]:8642'), 'http://[::1]:8642');
  assert.equal(functionEndpoint('http://10.1.2.3:8642'), 'http://10.1.2.3:8642');
  assert.equal(plannedFunctionEndpoint('0.0.0.0', 8642), 'http://127.0.0.1:8642');
  assert.equal(plannedFunctionEndpoint('localhost', 8642), 'http://127.0.0.1:8642');
  assert.equal(plannedFunctionEndpoint('::1', 8642), 'http://[::1]:8642');
  assert.equal(plannedFunctionEndpoint('127.0.0.1', 0), undefined);
});

for (const variant of awsPlatformVariants) {
  describe(`function AWS environment (${variant.name})`, { skip: sdkSkip }, () => {
    let aws: AwsPlatform;
    let lambda: LambdaClient;
    let s3: S3Client;

    before(async () => {
      aws = await startAwsPlatform(variant, { runFunctions: true, label: 'fnenv' });
      const credentials = { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret };
      const common = { endpoint: aws.platform.url, region: 'us-east-1', credentials };
      lambda = new LambdaClient(common);
      s3 = new S3Client({ ...common, forcePathStyle: true });
      await deployService(
        aws.platform,
        serviceDef([
          fnDef('put', { handler: 'put.put', handlerFile: 'put.mjs' }),
          fnDef('env', { handler: 'env.env', handlerFile: 'env.js' }),
          fnDef('own', { handler: 'own.own', handlerFile: 'own.js' }),
        ]),
        {
          'put.mjs': esm,
          'env.js': cjs,
          'own.js': own,
          'node_modules/@aws-sdk/client-sns/package.json':
            '{"name":"@aws-sdk/client-sns","main":"index.js"}',
          'node_modules/@aws-sdk/client-sns/index.js': ownSns,
        },
      );
    });
    after(async () => {
      lambda?.destroy();
      s3?.destroy();
      await aws?.close();
    });

    const invoke = async (name: string, payload: unknown = {}) => {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: `svc-dev-${name}`,
          Payload: Buffer.from(JSON.stringify(payload)),
        }),
      );
      const text = Buffer.from(out.Payload ?? []).toString();
      assert.equal(out.FunctionError, undefined, text);
      return JSON.parse(text) as Record<string, unknown>;
    };

    test('an ESM function imports the unbundled client-s3 and reaches the platform from env vars alone', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'fn-bucket' }));
      const out = await invoke('put', { bucket: 'fn-bucket', key: 'hello.txt' });
      assert.deepEqual(out, { body: 'from inside' });
      const listed = await s3.send(new ListBucketsCommand({}));
      assert.ok(listed.Buckets?.some((b) => b.Name === 'fn-bucket'));
    });

    test('a CommonJS function gets endpoints and scoped session credentials, never platform secrets', async () => {
      const out = (await invoke('env')) as {
        aws: Record<string, string>;
        nimbus: Record<string, string>;
        tables: string[];
      };
      const url = new URL(aws.platform.url).origin;
      assert.equal(out.aws.AWS_ENDPOINT_URL, url);
      for (const s of ['S3', 'DYNAMODB', 'SQS', 'SNS', 'LAMBDA', 'COGNITO_IDENTITY_PROVIDER']) {
        assert.equal(out.aws[`AWS_ENDPOINT_URL_${s}`], url, s);
      }
      assert.match(out.aws.AWS_ACCESS_KEY_ID ?? '', /^NIMS[A-Z0-9]{16}$/);
      assert.ok((out.aws.AWS_SESSION_TOKEN ?? '').length > 40);
      assert.notEqual(out.aws.AWS_ACCESS_KEY_ID, aws.key.id);
      assert.deepEqual(out.nimbus, {}, 'no platform variables reach the function');
      assert.ok(!JSON.stringify(out).includes(aws.platform.adminToken));
      assert.deepEqual(out.tables, []);

      // The session credentials work from outside too, but only with their token.
      const creds = {
        accessKeyId: out.aws.AWS_ACCESS_KEY_ID!,
        secretAccessKey: out.aws.AWS_SECRET_ACCESS_KEY!,
      };
      const region = 'us-east-1';
      const withToken = new S3Client({
        endpoint: url,
        region,
        forcePathStyle: true,
        credentials: { ...creds, sessionToken: out.aws.AWS_SESSION_TOKEN! },
      });
      const withoutToken = new S3Client({
        endpoint: url,
        region,
        forcePathStyle: true,
        credentials: creds,
      });
      const wrongToken = new S3Client({
        endpoint: url,
        region,
        forcePathStyle: true,
        credentials: { ...creds, sessionToken: `x${out.aws.AWS_SESSION_TOKEN!.slice(1)}` },
      });
      try {
        assert.ok((await withToken.send(new ListBucketsCommand({}))).Buckets);
        await assert.rejects(withoutToken.send(new ListBucketsCommand({})), {
          name: 'InvalidAccessKeyId',
        });
        await assert.rejects(wrongToken.send(new ListBucketsCommand({})), {
          name: 'InvalidAccessKeyId',
        });
      } finally {
        withToken.destroy();
        withoutToken.destroy();
        wrongToken.destroy();
      }
    });

    test("the function's own node_modules wins over the platform's SDK", async () => {
      assert.deepEqual(await invoke('own'), { own: true });
    });
  });
}
