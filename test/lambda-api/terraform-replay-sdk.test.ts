/**
 * The `terraform` binary is here but the `aws` provider cannot be downloaded (no registry, no
 * mirror), so this replays, with @aws-sdk/client-lambda, the calls Terraform's aws provider makes
 * for `aws_lambda_function` (with `publish = true`), `aws_lambda_alias` and
 * `aws_lambda_event_source_mapping`: apply, an in-place code change, a refresh, then destroy
 * (docs/lambda-api.md, "Terraform").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetEventSourceMappingCommand,
  GetFunctionCodeSigningConfigCommand,
  GetFunctionCommand,
  GetFunctionRecursionConfigCommand,
  GetRuntimeManagementConfigCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../helpers/aws-platform.js';
import { makeZip } from '../helpers/zip.js';

const code = (tag: string) =>
  makeZip({ 'index.js': `exports.handler = async () => ({ tag: '${tag}' });\n` });

describe('the Terraform aws provider call sequence, replayed with the SDK', () => {
  let aws: AwsPlatform;
  let lambda: LambdaClient;
  let sqs: SQSClient;
  const name = 'tf-fn';

  before(async () => {
    aws = await startAwsPlatform(awsPlatformVariants[0], { label: 'tf', runFunctions: true });
    const common = {
      endpoint: aws.platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      maxAttempts: 1,
    };
    lambda = new LambdaClient(common);
    sqs = new SQSClient(common);
  });
  after(async () => {
    lambda?.destroy();
    sqs?.destroy();
    await aws?.close();
  });

  /** resourceFunctionRead: what the provider reads after every create, update and refresh. */
  const readFunction = async () => {
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(fn.Configuration?.State, 'Active');
    assert.equal(fn.Configuration?.LastUpdateStatus, 'Successful');
    const signing = await lambda.send(
      new GetFunctionCodeSigningConfigCommand({ FunctionName: name }),
    );
    assert.equal(signing.CodeSigningConfigArn, '');
    const runtime = await lambda.send(
      new GetRuntimeManagementConfigCommand({ FunctionName: name }),
    );
    assert.equal(runtime.UpdateRuntimeOn, 'Auto');
    const recursion = await lambda.send(
      new GetFunctionRecursionConfigCommand({ FunctionName: name }),
    );
    assert.equal(recursion.RecursiveLoop, 'Terminate');
    // publish = true: the provider reads the newest version for `version` / `qualified_arn`.
    const versions = await lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: name, MaxItems: 10000 }),
    );
    return { fn, newest: versions.Versions?.at(-1)?.Version };
  };

  test('apply, change code, refresh, destroy', async () => {
    // aws_lambda_function: CreateFunction, then the waiter polls GetFunction until Active.
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/tf',
        Handler: 'index.handler',
        Code: { ZipFile: await code('v1') },
        Publish: true,
        MemorySize: 128,
        Timeout: 3,
        Tags: { managed_by: 'terraform' },
      }),
    );
    assert.equal(created.State, 'Active');
    let read = await readFunction();
    assert.equal(read.newest, '1');
    assert.deepEqual(read.fn.Tags, { managed_by: 'terraform' });

    // aws_lambda_alias: CreateAlias, then GetAlias.
    await lambda.send(
      new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }),
    );
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1');

    // aws_lambda_event_source_mapping: CreateEventSourceMapping, waiter on GetEventSourceMapping.
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'tf-queue' }));
    assert.ok(queue.QueueUrl);
    const mapping = await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: name,
        EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:tf-queue',
        BatchSize: 5,
      }),
    );
    const gotMapping = await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID }));
    assert.equal(gotMapping.State, 'Enabled');

    // A changed source_code_hash: UpdateFunctionCode (Publish), the waiter, a read; the alias
    // follows with UpdateAlias when its function_version references the new version.
    const updated = await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: name,
        ZipFile: await code('v2'),
        Publish: true,
        RevisionId: read.fn.Configuration?.RevisionId,
      }),
    );
    assert.equal(updated.Version, '2');
    read = await readFunction();
    assert.equal(read.newest, '2');
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2' }),
    );

    // terraform destroy: the mapping (waiting until it is gone), the alias, the function.
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID }));
    await assert.rejects(lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID })), {
      name: 'ResourceNotFoundException',
    });
    await lambda.send(new DeleteAliasCommand({ FunctionName: name, Name: 'live' }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: name })), {
      name: 'ResourceNotFoundException',
    });
  });
});
