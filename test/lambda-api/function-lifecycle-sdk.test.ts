/**
 * CreateFunction, UpdateFunctionCode, DeleteFunction, tags and event invoke configs through
 * @aws-sdk/client-lambda against a running platform with real function processes, on SQLite
 * and PostgreSQL: functions created by the API run, are listed, live in the `lambda-api`
 * service stage, and bad input is answered in Lambda's error shapes with nothing changed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionEventInvokeConfigCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  GetFunctionUrlConfigCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListFunctionUrlConfigsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  PutFunctionEventInvokeConfigCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionEventInvokeConfigCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../helpers/aws-platform.js';
import { makeZip } from '../helpers/zip.js';

const nodeCode = (tag: string) =>
  makeZip({
    'index.js': `exports.handler = async (event) => ({ tag: '${tag}', got: event });\n`,
  });
const pythonCode = () =>
  makeZip({ 'app.py': 'def handler(event, context):\n    return {"py": event.get("n", 0) + 1}\n' });

for (const variant of awsPlatformVariants)
  describe(`CreateFunction and friends through @aws-sdk/client-lambda on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let lambda: LambdaClient;
    let s3: S3Client;
    let sqs: SQSClient;
    const arn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

    const failure = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        return error as Error & { $metadata: { httpStatusCode?: number } };
      }
      assert.fail('expected the call to fail');
    };
    const invoke = async (name: string, payload: unknown = {}) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload) }),
      );
      assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
      return JSON.parse(Buffer.from(out.Payload!).toString()) as Record<string, unknown>;
    };

    before(async () => {
      aws = await startAwsPlatform(variant, {
        label: 'fn-api',
        runFunctions: true,
        options: { asyncRetryDelayMs: 10 },
      });
      const common = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      };
      lambda = new LambdaClient(common);
      s3 = new S3Client({ ...common, forcePathStyle: true });
      sqs = new SQSClient(common);
    });
    after(async () => {
      lambda?.destroy();
      s3?.destroy();
      sqs?.destroy();
      await aws?.close();
    });

    test('CreateFunction with a ZipFile runs, is listed, and lives in the lambda-api stage', async () => {
      const created = await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'api-node',
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/any',
          Handler: 'index.handler',
          Code: { ZipFile: await nodeCode('one') },
          Description: 'made by the SDK',
          Timeout: 7,
          MemorySize: 256,
          Environment: { Variables: { GREETING: 'hi' } },
          Tags: { team: 'a' },
          Publish: true,
        }),
      );
      assert.equal(created.$metadata.httpStatusCode, 201);
      assert.equal(created.FunctionName, 'api-node');
      assert.equal(created.FunctionArn, arn('api-node'));
      assert.equal(created.Runtime, 'nodejs20.x');
      assert.equal(created.Timeout, 7);
      assert.equal(created.MemorySize, 256);
      assert.equal(created.Description, 'made by the SDK');
      assert.deepEqual(created.Environment?.Variables, { GREETING: 'hi' });
      assert.match(created.RevisionId ?? '', /^[0-9a-f-]{36}$/);

      assert.deepEqual(await invoke('api-node', { a: 1 }), { tag: 'one', got: { a: 1 } });
      const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'api-node' }));
      assert.deepEqual(got.Tags, { team: 'a' });
      const listed = await lambda.send(new ListFunctionsCommand({}));
      assert.ok(listed.Functions?.some((f) => f.FunctionName === 'api-node'));

      // `nimbus info` reads the same view.
      const res = await fetch(`${aws.platform.url}/v1/services/lambda-api/stages/default`, {
        headers: { authorization: `Bearer ${aws.platform.adminToken}` },
      });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /api-node/);
    });

    test('a Python function from an object of the Nimbus S3 service', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'code' }));
      await s3.send(
        new PutObjectCommand({ Bucket: 'code', Key: 'py.zip', Body: await pythonCode() }),
      );
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'api-python',
          Runtime: 'python3.12',
          Role: 'arn:aws:iam::000000000000:role/any',
          Handler: 'app.handler',
          Code: { S3Bucket: 'code', S3Key: 'py.zip' },
        }),
      );
      assert.deepEqual(await invoke('api-python', { n: 41 }), { py: 42 });
      const missing = await failure(() =>
        lambda.send(
          new CreateFunctionCommand({
            FunctionName: 'api-none',
            Runtime: 'python3.12',
            Role: 'r',
            Handler: 'app.handler',
            Code: { S3Bucket: 'code', S3Key: 'absent.zip' },
          }),
        ),
      );
      assert.equal(missing.name, 'InvalidParameterValueException');
    });

    test('CreateFunction refuses a taken name, a bad zip, an unknown runtime', async () => {
      const base = {
        Runtime: 'nodejs20.x' as const,
        Role: 'arn:aws:iam::000000000000:role/any',
        Handler: 'index.handler',
      };
      const taken = await failure(() =>
        lambda.send(
          new CreateFunctionCommand({
            ...base,
            FunctionName: 'api-node',
            Code: { ZipFile: Buffer.from('x') },
          }),
        ),
      );
      // The package is checked before the name, so a bad one is refused whatever the name.
      assert.equal(taken.name, 'InvalidParameterValueException');
      const conflict = await failure(async () =>
        lambda.send(
          new CreateFunctionCommand({
            ...base,
            FunctionName: 'api-node',
            Code: { ZipFile: await nodeCode('x') },
          }),
        ),
      );
      assert.equal(conflict.name, 'ResourceConflictException');
      assert.equal(conflict.$metadata.httpStatusCode, 409);
      const badZip = await failure(() =>
        lambda.send(
          new CreateFunctionCommand({
            ...base,
            FunctionName: 'api-bad',
            Code: { ZipFile: Buffer.from('PK\x03\x04 this is not a zip at all') },
          }),
        ),
      );
      assert.equal(badZip.name, 'InvalidParameterValueException');
      assert.match(badZip.message, /Could not unzip/);
      const runtime = await failure(async () =>
        lambda.send(
          new CreateFunctionCommand({
            ...base,
            Runtime: 'cobol' as 'nodejs20.x',
            FunctionName: 'api-bad',
            Code: { ZipFile: await nodeCode('x') },
          }),
        ),
      );
      assert.equal(runtime.name, 'InvalidParameterValueException');
      const absent = await failure(() =>
        lambda.send(new GetFunctionCommand({ FunctionName: 'api-bad' })),
      );
      assert.equal(absent.name, 'ResourceNotFoundException');
    });

    test('UpdateFunctionCode publishes new code; a stale RevisionId is refused', async () => {
      const before = await lambda.send(new GetFunctionCommand({ FunctionName: 'api-node' }));
      const updated = await lambda.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'api-node',
          ZipFile: await nodeCode('two'),
          RevisionId: before.Configuration?.RevisionId,
          Publish: true,
        }),
      );
      assert.equal(updated.Version, '2');
      assert.notEqual(updated.RevisionId, before.Configuration?.RevisionId);
      assert.notEqual(updated.CodeSha256, before.Configuration?.CodeSha256);
      assert.equal((await invoke('api-node')).tag, 'two');
      const stale = await failure(async () =>
        lambda.send(
          new UpdateFunctionCodeCommand({
            FunctionName: 'api-node',
            ZipFile: await nodeCode('three'),
            RevisionId: before.Configuration?.RevisionId,
          }),
        ),
      );
      assert.equal(stale.name, 'PreconditionFailedException');
      assert.equal(stale.$metadata.httpStatusCode, 412);
      assert.equal((await invoke('api-node')).tag, 'two');
      const versions = await lambda.send(
        new ListVersionsByFunctionCommand({ FunctionName: 'api-node' }),
      );
      assert.deepEqual(
        versions.Versions?.map((v) => v.Version),
        ['$LATEST', '1', '2'],
      );
      const unknown = await failure(async () =>
        lambda.send(
          new UpdateFunctionCodeCommand({ FunctionName: 'nope', ZipFile: await nodeCode('x') }),
        ),
      );
      assert.equal(unknown.name, 'ResourceNotFoundException');
    });

    test('TagResource, UntagResource and ListTags', async () => {
      await lambda.send(
        new TagResourceCommand({ Resource: arn('api-node'), Tags: { env: 'test', owner: 'me' } }),
      );
      let tags = await lambda.send(new ListTagsCommand({ Resource: arn('api-node') }));
      assert.deepEqual(tags.Tags, { team: 'a', env: 'test', owner: 'me' });
      await lambda.send(
        new UntagResourceCommand({ Resource: arn('api-node'), TagKeys: ['team', 'owner'] }),
      );
      tags = await lambda.send(new ListTagsCommand({ Resource: arn('api-node') }));
      assert.deepEqual(tags.Tags, { env: 'test' });
      const absent = await failure(() =>
        lambda.send(new ListTagsCommand({ Resource: arn('not-there') })),
      );
      assert.equal(absent.name, 'ResourceNotFoundException');
      // Tags are not code: the function keeps serving what it served.
      assert.equal((await invoke('api-node')).tag, 'two');
    });

    test('Put/Update/Get/DeleteFunctionEventInvokeConfig', async () => {
      const none = await failure(() =>
        lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'api-node' })),
      );
      assert.equal(none.name, 'ResourceNotFoundException');
      const put = await lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: 'api-node',
          MaximumRetryAttempts: 1,
          MaximumEventAgeInSeconds: 120,
          DestinationConfig: { OnFailure: { Destination: arn('api-python') } },
        }),
      );
      assert.equal(put.MaximumRetryAttempts, 1);
      assert.equal(put.DestinationConfig?.OnFailure?.Destination, arn('api-python'));
      const updated = await lambda.send(
        new UpdateFunctionEventInvokeConfigCommand({
          FunctionName: 'api-node',
          MaximumRetryAttempts: 0,
        }),
      );
      assert.equal(updated.MaximumRetryAttempts, 0);
      assert.equal(updated.MaximumEventAgeInSeconds, 120);
      const got = await lambda.send(
        new GetFunctionEventInvokeConfigCommand({ FunctionName: 'api-node' }),
      );
      assert.equal(got.MaximumRetryAttempts, 0);
      assert.equal(got.DestinationConfig?.OnFailure?.Destination, arn('api-python'));
      const tooMany = await failure(() =>
        lambda.send(
          new PutFunctionEventInvokeConfigCommand({
            FunctionName: 'api-node',
            MaximumRetryAttempts: 5,
          }),
        ),
      );
      assert.equal(tooMany.$metadata.httpStatusCode, 400);
      await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'api-node' }));
      const gone = await failure(() =>
        lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'api-node' })),
      );
      assert.equal(gone.name, 'ResourceNotFoundException');
    });

    test('Create/Get/Update/List/DeleteFunctionUrlConfig serve the function URL', async () => {
      const created = await lambda.send(
        new CreateFunctionUrlConfigCommand({ FunctionName: 'api-node', AuthType: 'NONE' }),
      );
      assert.equal(created.$metadata.httpStatusCode, 201);
      assert.equal(created.AuthType, 'NONE');
      const id = /^http:\/\/([0-9a-f]{32})\.lambda-url\.localhost:\d+\/$/.exec(
        created.FunctionUrl ?? '',
      )?.[1];
      assert.ok(id, created.FunctionUrl);
      const res = await fetch(`${aws.platform.url}/_lambda-url/${id}/`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { tag: string }).tag, 'two');
      const again = await failure(() =>
        lambda.send(
          new CreateFunctionUrlConfigCommand({ FunctionName: 'api-node', AuthType: 'NONE' }),
        ),
      );
      assert.equal(again.name, 'ResourceConflictException');
      const updated = await lambda.send(
        new UpdateFunctionUrlConfigCommand({
          FunctionName: 'api-node',
          Cors: { AllowOrigins: ['https://example.com'], MaxAge: 60 },
        }),
      );
      assert.deepEqual(updated.Cors?.AllowOrigins, ['https://example.com']);
      assert.equal(updated.AuthType, 'NONE');
      const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'api-node' }));
      assert.equal(got.FunctionUrl, created.FunctionUrl);
      assert.equal(got.Cors?.MaxAge, 60);
      const listed = await lambda.send(
        new ListFunctionUrlConfigsCommand({ FunctionName: 'api-node' }),
      );
      assert.equal(listed.FunctionUrlConfigs?.length, 1);
      const badAuth = await failure(() =>
        lambda.send(
          new UpdateFunctionUrlConfigCommand({
            FunctionName: 'api-node',
            AuthType: 'KERBEROS' as 'NONE',
          }),
        ),
      );
      assert.equal(badAuth.$metadata.httpStatusCode, 400);
      await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'api-node' }));
      const gone = await failure(() =>
        lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'api-node' })),
      );
      assert.equal(gone.name, 'ResourceNotFoundException');
      assert.notEqual((await fetch(`${aws.platform.url}/_lambda-url/${id}/`)).status, 200);
    });

    test('the async path honours an event invoke config: retries and OnFailure', async () => {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'api-fails',
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/any',
          Handler: 'index.handler',
          Code: {
            ZipFile: await makeZip({
              'index.js': "exports.handler = async () => { throw new Error('boom'); };\n",
            }),
          },
        }),
      );
      const { QueueUrl: queueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: 'failures' }),
      );
      await lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: 'api-fails',
          MaximumRetryAttempts: 0,
          DestinationConfig: {
            OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:failures' },
          },
        }),
      );
      const sent = await lambda.send(
        new InvokeCommand({
          FunctionName: 'api-fails',
          InvocationType: 'Event',
          Payload: JSON.stringify({ n: 1 }),
        }),
      );
      assert.equal(sent.StatusCode, 202);
      let body: string | undefined;
      for (let i = 0; i < 30 && body === undefined; i++) {
        const got = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
        );
        body = got.Messages?.[0]?.Body;
      }
      assert.ok(body, 'no failure record arrived');
      const record = JSON.parse(body) as {
        requestContext: { condition: string; approximateInvokeCount: number };
        requestPayload: unknown;
      };
      assert.equal(record.requestContext.condition, 'RetriesExhausted');
      // MaximumRetryAttempts 0: the one attempt only.
      assert.equal(record.requestContext.approximateInvokeCount, 1);
      assert.deepEqual(record.requestPayload, { n: 1 });
    });

    test('DeleteFunction with a version Qualifier', async () => {
      // api-node has versions 1..n; the newest and the stage alias's are kept.
      const versions = await lambda.send(
        new ListVersionsByFunctionCommand({ FunctionName: 'api-node' }),
      );
      const numbers = (versions.Versions ?? [])
        .map((v) => v.Version)
        .filter((v) => v !== '$LATEST');
      assert.ok(numbers.length >= 3, String(numbers));
      const newest = numbers.at(-1)!;
      const inUse = await failure(() =>
        lambda.send(new DeleteFunctionCommand({ FunctionName: 'api-node', Qualifier: newest })),
      );
      assert.equal(inUse.name, 'ResourceConflictException');
      assert.match(inUse.message, /aliases reference it: \[default\]/);
      await lambda.send(new DeleteFunctionCommand({ FunctionName: 'api-node', Qualifier: '1' }));
      const after = await lambda.send(
        new ListVersionsByFunctionCommand({ FunctionName: 'api-node' }),
      );
      assert.ok(!after.Versions?.some((v) => v.Version === '1'));
      const gone = await failure(() =>
        lambda.send(new DeleteFunctionCommand({ FunctionName: 'api-node', Qualifier: '1' })),
      );
      assert.equal(gone.name, 'ResourceNotFoundException');
      assert.equal((await invoke('api-node')).tag, 'two');
    });

    test('DeleteFunction removes it; a second delete is ResourceNotFoundException', async () => {
      await lambda.send(new DeleteFunctionCommand({ FunctionName: 'api-python' }));
      const got = await failure(() =>
        lambda.send(new GetFunctionCommand({ FunctionName: 'api-python' })),
      );
      assert.equal(got.name, 'ResourceNotFoundException');
      const again = await failure(() =>
        lambda.send(new DeleteFunctionCommand({ FunctionName: 'api-python' })),
      );
      assert.equal(again.name, 'ResourceNotFoundException');
      // The other function of the stage is untouched.
      assert.equal((await invoke('api-node')).tag, 'two');
    });
  });
