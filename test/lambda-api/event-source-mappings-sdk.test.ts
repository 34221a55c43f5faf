/**
 * Create/Get/Update/Delete/ListEventSourceMappings through @aws-sdk/client-lambda against a
 * running platform, on SQLite and PostgreSQL: Lambda's request, response and error shapes;
 * mappings from a deployed serverless.yml `sqs` event listed beside the API's own.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../helpers/aws-platform.js';
import { runCli } from '../helpers/run-cli.js';
import { waitUntil } from '../helpers/wait-for.js';

const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

for (const variant of awsPlatformVariants)
  describe(`event source mappings through @aws-sdk/client-lambda on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let lambda: LambdaClient;
    let sqs: SQSClient;

    const failure = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        return error as Error & { $metadata: { httpStatusCode?: number } };
      }
      assert.fail('expected the call to fail');
    };

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 'esm' });
      const credentials = { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret };
      const common = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials,
        maxAttempts: 1,
      };
      lambda = new LambdaClient(common);
      sqs = new SQSClient(common);
      for (const q of ['from-yml', 'a', 'b']) {
        await sqs.send(new CreateQueueCommand({ QueueName: q }));
      }
      const svc = join(aws.dataDir, 'svc');
      await mkdir(svc);
      await writeFile(join(svc, 'handler.js'), 'exports.run = async () => ({});\n');
      await writeFile(
        join(svc, 'serverless.yml'),
        [
          'service: esmapi',
          'provider: { name: aws, runtime: nodejs20.x }',
          'functions:',
          '  worker:',
          '    handler: handler.run',
          '    events:',
          `      - sqs: {arn: '${arnOf('from-yml')}', batchSize: 5, enabled: false}`,
          '  other:',
          '    handler: handler.run',
          '',
        ].join('\n'),
      );
      const res = await runCli(['deploy'], {
        cwd: svc,
        env: {
          HOME: aws.dataDir,
          NIMBUS_ENDPOINT: aws.platform.url,
          NIMBUS_TOKEN: aws.platform.adminToken,
        },
      });
      assert.equal(res.code, 0, res.stderr);
    });
    after(async () => {
      lambda?.destroy();
      sqs?.destroy();
      await aws?.close();
    });

    test('a serverless.yml sqs event is listed as a mapping', async () => {
      const { EventSourceMappings = [] } = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: 'esmapi-dev-worker' }),
      );
      assert.equal(EventSourceMappings.length, 1);
      const [m] = EventSourceMappings;
      assert.match(m!.UUID!, /^[0-9a-f-]{36}$/);
      assert.equal(m!.EventSourceArn, arnOf('from-yml'));
      assert.equal(
        m!.FunctionArn,
        'arn:aws:lambda:us-east-1:000000000000:function:esmapi-dev-worker:dev',
      );
      assert.equal(m!.BatchSize, 5);
      assert.equal(m!.State, 'Disabled');
      assert.ok(m!.LastModified instanceof Date);
    });

    test('create, get, update, list, delete', async () => {
      const created = await lambda.send(
        new CreateEventSourceMappingCommand({
          EventSourceArn: arnOf('a'),
          FunctionName: 'esmapi-dev-other',
          BatchSize: 50,
          MaximumBatchingWindowInSeconds: 2,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          FilterCriteria: { Filters: [{ Pattern: '{"body":{"kind":["order"]}}' }] },
          ScalingConfig: { MaximumConcurrency: 3 },
        }),
      );
      assert.equal(created.$metadata.httpStatusCode, 202);
      assert.equal(created.State, 'Creating');
      const uuid = created.UUID!;
      await waitUntil(
        () => aws.platform.eventSources.running.includes(uuid),
        'the engine to poll the new mapping',
      );
      const got = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      assert.equal(got.State, 'Enabled');
      assert.equal(got.BatchSize, 50);
      assert.equal(got.MaximumBatchingWindowInSeconds, 2);
      assert.deepEqual(got.FunctionResponseTypes, ['ReportBatchItemFailures']);
      assert.deepEqual(got.FilterCriteria, {
        Filters: [{ Pattern: '{"body":{"kind":["order"]}}' }],
      });
      assert.deepEqual(got.ScalingConfig, { MaximumConcurrency: 3 });
      assert.equal(
        got.FunctionArn,
        'arn:aws:lambda:us-east-1:000000000000:function:esmapi-dev-other',
      );

      const updated = await lambda.send(
        new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false, BatchSize: 10 }),
      );
      assert.equal(updated.State, 'Updating');
      const disabled = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      assert.equal(disabled.State, 'Disabled');
      assert.equal(disabled.BatchSize, 10);
      assert.equal(aws.platform.eventSources.running.includes(uuid), false, 'disabled: not polled');

      const bySource = await lambda.send(
        new ListEventSourceMappingsCommand({ EventSourceArn: arnOf('a') }),
      );
      assert.deepEqual(
        bySource.EventSourceMappings?.map((m) => m.UUID),
        [uuid],
      );
      const page = await lambda.send(new ListEventSourceMappingsCommand({ MaxItems: 1 }));
      assert.equal(page.EventSourceMappings?.length, 1);
      assert.equal(page.NextMarker, '1');

      const deleted = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
      assert.equal(deleted.State, 'Deleting');
      const gone = await failure(() =>
        lambda.send(new GetEventSourceMappingCommand({ UUID: uuid })),
      );
      assert.equal(gone.name, 'ResourceNotFoundException');
      assert.equal(gone.$metadata.httpStatusCode, 404);
    });

    test('bad requests get Lambda errors and change nothing', async () => {
      const before = (await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings
        ?.length;
      const create = (input: Record<string, unknown>) =>
        failure(() =>
          lambda.send(
            new CreateEventSourceMappingCommand({
              EventSourceArn: arnOf('b'),
              FunctionName: 'esmapi-dev-other',
              ...input,
            }),
          ),
        );
      const cases: [Record<string, unknown>, string, number, RegExp][] = [
        [{ FunctionName: 'nope' }, 'ResourceNotFoundException', 404, /Function does not exist/],
        [
          { EventSourceArn: arnOf('missing') },
          'InvalidParameterValueException',
          400,
          /NonExistentQueue/,
        ],
        [{ BatchSize: 11 }, 'InvalidParameterValueException', 400, /greater than 0/],
        [{ BatchSize: 0 }, 'InvalidParameterValueException', 400, /batchSize/],
        [{ StartingPosition: 'LATEST' }, 'InvalidParameterValueException', 400, /StartingPosition/],
        [
          {
            EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
            StartingPosition: 'LATEST',
          },
          'InvalidParameterValueException',
          400,
          /Stream not found/,
        ],
        [
          { FilterCriteria: { Filters: [{ Pattern: '{"body": "x"}' }] } },
          'InvalidParameterValueException',
          400,
          /filter pattern/,
        ],
        [
          { ScalingConfig: { MaximumConcurrency: 1 } },
          'InvalidParameterValueException',
          400,
          /2 to 1000/,
        ],
        [
          { FunctionResponseTypes: ['Nope'] },
          'ValidationException',
          400,
          /ReportBatchItemFailures/,
        ],
      ];
      for (const [input, name, status, message] of cases) {
        const error = await create(input);
        assert.equal(error.name, name, JSON.stringify(input));
        assert.equal(error.$metadata.httpStatusCode, status);
        assert.match(error.message, message);
      }
      await lambda.send(
        new CreateEventSourceMappingCommand({
          EventSourceArn: arnOf('b'),
          FunctionName: 'esmapi-dev-other',
        }),
      );
      const twice = await create({});
      assert.equal(twice.name, 'ResourceConflictException');
      assert.equal(twice.$metadata.httpStatusCode, 409);
      const missing = await failure(() =>
        lambda.send(new GetEventSourceMappingCommand({ UUID: 'not-a-uuid' })),
      );
      assert.equal(missing.name, 'ResourceNotFoundException');
      const after = (await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings
        ?.length;
      assert.equal(after, (before ?? 0) + 1);
      const unsigned = await fetch(`${aws.platform.url}/2015-03-31/event-source-mappings/`);
      assert.equal(unsigned.status, 403);
    });
  });
