import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DescribeTableCommand,
  DynamoDBClient,
  ListTagsOfResourceCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../../../helpers/aws-platform.js';

/** A definition with no functions: only resources, deployed through the control API. */
function definition(service: string, resources: Record<string, unknown>) {
  return {
    service,
    stage: 'dev',
    region: 'us-east-1',
    provider: { name: 'aws', runtime: 'nodejs20.x', memorySize: 128, timeout: 6, environment: {} },
    package: { patterns: [], individually: false, excludeDevDependencies: true },
    functions: {},
    plugins: [],
    custom: {},
    resources: { Resources: resources },
  };
}

interface Change {
  logicalId: string;
  type: string;
  physicalId: string;
}
/** The control API's answers these tests read. */
interface Answer {
  resources: { applied: Change[]; removed: Change[]; kept: Change[] };
  removed: { resources: Change[]; kept: Change[] };
  deployments: unknown[];
  error?: { code: string };
  code?: string;
}

for (const variant of awsPlatformVariants) {
  describe(`stage resources on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let s3: S3Client;
    let sqs: SQSClient;
    let ddb: DynamoDBClient;

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 'resources' });
      const config = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      };
      s3 = new S3Client({ ...config, forcePathStyle: true });
      sqs = new SQSClient(config);
      ddb = new DynamoDBClient(config);
    });
    after(async () => {
      for (const c of [s3, sqs, ddb]) c?.destroy();
      await aws?.close();
    });

    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${aws.platform.url}/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${aws.platform.adminToken}`,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Answer };
    };
    const deploy = (service: string, resources: Record<string, unknown>) =>
      control('POST', `/services/${service}/stages/dev/deployments`, {
        definition: definition(service, resources),
        functionArtifacts: {},
      });

    const queue = (name: string, extra = {}) => ({
      Type: 'AWS::SQS::Queue',
      Properties: { QueueName: name, ...extra },
    });
    const table = {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'inv-items',
        BillingMode: 'PROVISIONED',
        ProvisionedThroughput: { ReadCapacityUnits: '5', WriteCapacityUnits: 5 },
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      },
    };

    test('create, update an attribute, drop one, remove the stage; generated names are stable', async () => {
      const first = await deploy('inv', {
        Items: table,
        Work: queue('inv-work', { DelaySeconds: 5 }),
        Box: { Type: 'AWS::S3::Bucket' },
      });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const applied = first.body.resources.applied as { logicalId: string; physicalId: string }[];
      const box = applied.find((r) => r.logicalId === 'Box')!.physicalId;
      assert.match(box, /^inv-dev-box-[0-9a-f]{12}$/);
      await s3.send(new HeadBucketCommand({ Bucket: box }));
      const described = await ddb.send(new DescribeTableCommand({ TableName: 'inv-items' }));
      assert.equal(described.Table?.ProvisionedThroughput?.ReadCapacityUnits, 5);

      const second = await deploy('inv', {
        Items: table,
        Work: queue('inv-work', { DelaySeconds: 7 }),
        Box: { Type: 'AWS::S3::Bucket' },
      });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      const url = `${aws.platform.url}/000000000000/inv-work`;
      const attrs = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['DelaySeconds'] }),
      );
      assert.equal(attrs.Attributes?.DelaySeconds, '7');
      assert.equal(
        second.body.resources.applied.find((r) => r.logicalId === 'Box')!.physicalId,
        box,
      );

      const third = await deploy('inv', {
        Work: queue('inv-work'),
        Box: { Type: 'AWS::S3::Bucket' },
      });
      assert.equal(third.status, 201, JSON.stringify(third.body));
      assert.deepEqual(third.body.resources.removed, [
        { logicalId: 'Items', type: 'AWS::DynamoDB::Table', physicalId: 'inv-items' },
      ]);
      await assert.rejects(
        ddb.send(new DescribeTableCommand({ TableName: 'inv-items' })),
        ResourceNotFoundException,
      );
      const reset = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['DelaySeconds'] }),
      );
      assert.equal(reset.Attributes?.DelaySeconds, '0', 'an attribute no longer declared is reset');

      const removed = await control('DELETE', '/services/inv/stages/dev');
      assert.equal(removed.status, 200);
      assert.deepEqual(
        (removed.body.removed.resources as { logicalId: string }[]).map((r) => r.logicalId).sort(),
        ['Box', 'Work'],
      );
      assert.deepEqual(removed.body.removed.kept, []);
      assert.deepEqual((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [], []);
      const buckets = await s3.send(new ListBucketsCommand({}));
      assert.ok(!(buckets.Buckets ?? []).some((b) => b.Name === box));
    });

    test('redeploy applies global index changes to a table that keeps its items', async () => {
      const attribute = (name: string) => ({ AttributeName: name, AttributeType: 'S' });
      const gsi = (name: string, key: string, projection: string) => ({
        IndexName: name,
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        Projection: { ProjectionType: projection },
      });
      const tasks = (extra: Record<string, unknown>) => ({
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'gsi-tasks',
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          ...extra,
        },
      });
      const first = await deploy('gsi', {
        Tasks: tasks({
          AttributeDefinitions: [attribute('id'), attribute('status')],
          GlobalSecondaryIndexes: [gsi('byStatus', 'status', 'KEYS_ONLY')],
          Tags: [
            { Key: 'team', Value: 'core' },
            { Key: 'tier', Value: 1 },
          ],
        }),
      });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      const tagsOf = async () =>
        (
          await ddb.send(
            new ListTagsOfResourceCommand({
              ResourceArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/gsi-tasks',
            }),
          )
        ).Tags;
      assert.deepEqual(await tagsOf(), [
        { Key: 'team', Value: 'core' },
        { Key: 'tier', Value: '1' },
      ]);
      for (const [id, status, owner] of [
        ['t1', 'open', 'ann'],
        ['t2', 'done', 'ann'],
        ['t3', 'open', 'bob'],
      ]) {
        await ddb.send(
          new PutItemCommand({
            TableName: 'gsi-tasks',
            Item: { id: { S: id! }, status: { S: status! }, owner: { S: owner! } },
          }),
        );
      }
      const byIndex = async (index: string, key: string, value: string) =>
        (
          await ddb.send(
            new QueryCommand({
              TableName: 'gsi-tasks',
              IndexName: index,
              KeyConditionExpression: '#k = :v',
              ExpressionAttributeNames: { '#k': key },
              ExpressionAttributeValues: { ':v': { S: value } },
            }),
          )
        ).Items ?? [];
      assert.deepEqual(
        (await byIndex('byStatus', 'status', 'open')).map((i) => Object.keys(i).sort()),
        [
          ['id', 'status'],
          ['id', 'status'],
        ],
      );

      // Changed projection (deleted and rebuilt), a new index, provisioned billing.
      const second = await deploy('gsi', {
        Tasks: tasks({
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: '3', WriteCapacityUnits: '2' },
          AttributeDefinitions: [attribute('id'), attribute('status'), attribute('owner')],
          GlobalSecondaryIndexes: [
            {
              ...gsi('byStatus', 'status', 'ALL'),
              ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
            },
            {
              ...gsi('byOwner', 'owner', 'ALL'),
              ProvisionedThroughput: { ReadCapacityUnits: '4', WriteCapacityUnits: '4' },
            },
          ],
        }),
      });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      assert.deepEqual(await tagsOf(), [], 'tags no longer declared are removed');
      const described = (await ddb.send(new DescribeTableCommand({ TableName: 'gsi-tasks' })))
        .Table!;
      assert.equal(described.BillingModeSummary?.BillingMode, 'PROVISIONED');
      assert.equal(described.ProvisionedThroughput?.ReadCapacityUnits, 3);
      assert.deepEqual(
        described.GlobalSecondaryIndexes?.map((i) => [
          i.IndexName,
          i.Projection?.ProjectionType,
          i.ItemCount,
          i.ProvisionedThroughput?.ReadCapacityUnits,
        ]),
        [
          ['byStatus', 'ALL', 3, 1],
          ['byOwner', 'ALL', 3, 4],
        ],
      );
      assert.deepEqual((await byIndex('byOwner', 'owner', 'ann')).map((i) => i.id?.S).sort(), [
        't1',
        't2',
      ]);
      assert.equal((await byIndex('byStatus', 'status', 'open'))[0]?.owner?.S !== undefined, true);

      // An index no longer declared is dropped, with its attribute definition.
      const third = await deploy('gsi', {
        Tasks: tasks({
          AttributeDefinitions: [attribute('id'), attribute('owner')],
          GlobalSecondaryIndexes: [gsi('byOwner', 'owner', 'ALL')],
        }),
      });
      assert.equal(third.status, 201, JSON.stringify(third.body));
      const after = (await ddb.send(new DescribeTableCommand({ TableName: 'gsi-tasks' }))).Table!;
      assert.deepEqual(
        after.GlobalSecondaryIndexes?.map((i) => i.IndexName),
        ['byOwner'],
      );
      assert.deepEqual(after.AttributeDefinitions?.map((a) => a.AttributeName).sort(), [
        'id',
        'owner',
      ]);
      await assert.rejects(byIndex('byStatus', 'status', 'open'), /specified index/);
      assert.equal((await byIndex('byOwner', 'owner', 'bob')).length, 1);

      // Tags the service refuses fail the deploy with its message; the table's stay.
      const badTags = await deploy('gsi', {
        Tasks: tasks({
          AttributeDefinitions: [attribute('id'), attribute('owner')],
          GlobalSecondaryIndexes: [gsi('byOwner', 'owner', 'ALL')],
          Tags: [{ Key: 'aws:owner', Value: 'me' }],
        }),
      });
      assert.equal(badTags.status, 409, JSON.stringify(badTags.body));
      assert.match(JSON.stringify(badTags.body), /aws:/);
      assert.deepEqual(await tagsOf(), []);

      // A local index cannot change in place: refused, the table untouched.
      const refused = await deploy('gsi', {
        Tasks: tasks({
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [attribute('id'), attribute('owner')],
          GlobalSecondaryIndexes: [gsi('byOwner', 'owner', 'ALL')],
          LocalSecondaryIndexes: [],
        }),
      });
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match(JSON.stringify(refused.body), /LocalSecondaryIndexes/);
      await control('DELETE', '/services/gsi/stages/dev');
    });

    test('a resource that cannot be created fails the deploy; the previous deployment stays', async () => {
      const ok = await deploy('clash', { Work: queue('clash-work') });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      await s3.send(new CreateBucketCommand({ Bucket: 'someone-elses' }));
      const failed = await deploy('clash', {
        Work: queue('clash-work'),
        Extra: queue('clash-extra'),
        Theirs: {
          Type: 'AWS::S3::Bucket',
          DependsOn: 'Extra',
          Properties: { BucketName: 'someone-elses' },
        },
      });
      assert.equal(failed.status, 409);
      assert.equal(failed.body.error?.code ?? failed.body.code, 'NIMBUS_DEPLOY_RESOURCE_FAILED');
      assert.match(JSON.stringify(failed.body), /bucket someone-elses already exists/);
      const deployments = await control('GET', '/services/clash/stages/dev/deployments');
      assert.equal(deployments.body.deployments.length, 1, 'no deployment recorded');
      // What was created before the failure is the stage's: remove takes it, not their bucket.
      const removed = await control('DELETE', '/services/clash/stages/dev');
      assert.deepEqual(
        (removed.body.removed.resources as { logicalId: string }[]).map((r) => r.logicalId),
        ['Extra', 'Work'],
      );
      await s3.send(new HeadBucketCommand({ Bucket: 'someone-elses' }));
    });
  });
}
