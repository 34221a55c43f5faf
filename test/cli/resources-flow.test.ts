import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { runCli } from '../helpers/run-cli.js';

const HANDLER = `module.exports.main = async () => ({
  BUCKET: process.env.BUCKET,
  QUEUE_URL: process.env.QUEUE_URL,
  QUEUE_ARN: process.env.QUEUE_ARN,
  TABLE: process.env.TABLE,
  TABLE_ARN: process.env.TABLE_ARN,
  SUBBED: process.env.SUBBED,
  SELF: process.env.SELF,
});
`;

function serverlessYml(opts: {
  table: boolean;
  extraEnv?: string;
  extraResource?: string;
}): string {
  return `service: shop
provider:
  name: aws
  runtime: nodejs20.x
  environment:
    BUCKET: !Ref Files
    QUEUE_URL: !Ref Jobs
    QUEUE_ARN: !GetAtt Jobs.Arn
${opts.extraEnv ?? ''}
functions:
  env:
    handler: handler.main
    environment:
      SUBBED: !Sub '\${AWS::StackName}/\${Files}/\${Jobs.QueueName}'
      SELF: !GetAtt [EnvLambdaFunction, Arn]
${opts.table ? '      TABLE: !Ref Orders\n      TABLE_ARN: !GetAtt [Orders, Arn]' : ''}
resources:
  Resources:
    Files:
      Type: AWS::S3::Bucket
      Properties:
        BucketName: shop-files-e2e
    Dead:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: shop-jobs-dlq
    Jobs:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: shop-jobs
        VisibilityTimeout: 45
        RedrivePolicy:
          deadLetterTargetArn: !GetAtt Dead.Arn
          maxReceiveCount: 3
${
  opts.table
    ? `    Orders:
      Type: AWS::DynamoDB::Table
      Properties:
        TableName: shop-orders
        BillingMode: PAY_PER_REQUEST
        AttributeDefinitions:
          - AttributeName: id
            AttributeType: S
        KeySchema:
          - AttributeName: id
            KeyType: HASH
`
    : ''
}${opts.extraResource ?? ''}
  Outputs:
    JobsArn:
      Value: !GetAtt Jobs.Arn
`;
}

describe('serverless.yml resources, deployed by the CLI', () => {
  let cleanup: () => Promise<void>;
  let env: Record<string, string>;
  let root: string;
  let url: string;
  let clients: { s3: S3Client; sqs: SQSClient; ddb: DynamoDBClient };

  before(async () => {
    const started = await startCliPlatform();
    ({ root, env } = started);
    url = started.platform.url;
    cleanup = started.close;
    const res = await fetch(`${url}/v1/keys`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${started.platform.adminToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ description: 'resources tests' }),
    });
    const { key } = (await res.json()) as { key: { id: string; secret: string } };
    const config = {
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    };
    clients = {
      s3: new S3Client({ ...config, forcePathStyle: true }),
      sqs: new SQSClient(config),
      ddb: new DynamoDBClient(config),
    };
  });
  after(async () => {
    for (const c of Object.values(clients ?? {})) c.destroy();
    await cleanup();
  });

  async function service(name: string, yml: string): Promise<string> {
    const cwd = join(root, name);
    await mkdir(cwd, { recursive: true });
    await writeFile(join(cwd, 'handler.js'), HANDLER);
    await writeFile(join(cwd, 'serverless.yml'), yml);
    return cwd;
  }

  test('deploy creates them, the function sees resolved values, redeploy drops one, remove keeps a non-empty bucket', async () => {
    const cwd = await service('shop', serverlessYml({ table: true }));
    const deployed = await runCli(['deploy'], { cwd, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.doesNotMatch(deployed.stderr, /Warning/, 'no resource key is warned');
    assert.match(
      deployed.stdout,
      /outputs:\n {2}JobsArn: arn:aws:sqs:us-east-1:000000000000:shop-jobs/,
    );

    const invoked = await runCli(['invoke', '-f', 'env'], { cwd, env });
    assert.equal(invoked.code, 0, invoked.stderr);
    const seen = JSON.parse(invoked.stdout) as Record<string, string>;
    assert.deepEqual(seen, {
      BUCKET: 'shop-files-e2e',
      QUEUE_URL: `${url}/000000000000/shop-jobs`,
      QUEUE_ARN: 'arn:aws:sqs:us-east-1:000000000000:shop-jobs',
      TABLE: 'shop-orders',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/shop-orders',
      SUBBED: 'shop-dev/shop-files-e2e/shop-jobs',
      SELF: 'arn:aws:lambda:us-east-1:000000000000:function:shop-dev-env',
    });
    // The control API (and the console's stage page) list what the stage created.
    const listed = await fetch(`${url}/v1/services/shop/stages/dev/resources`, {
      headers: { authorization: `Bearer ${env.NIMBUS_TOKEN}` },
    });
    const { resources } = (await listed.json()) as {
      resources: { type: string; physicalId: string }[];
    };
    const listedNames = resources.map((r) => `${r.type} ${r.physicalId}`);
    for (const expected of [
      'AWS::DynamoDB::Table shop-orders',
      'AWS::S3::Bucket shop-files-e2e',
      'AWS::SQS::Queue shop-jobs',
    ]) {
      assert.ok(listedNames.includes(expected), `${expected} in ${listedNames.join(', ')}`);
    }

    await clients.s3.send(new HeadBucketCommand({ Bucket: 'shop-files-e2e' }));
    const attrs = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: seen.QUEUE_URL, AttributeNames: ['All'] }),
    );
    assert.equal(attrs.Attributes?.VisibilityTimeout, '45');
    assert.deepEqual(JSON.parse(attrs.Attributes?.RedrivePolicy ?? '{}'), {
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:shop-jobs-dlq',
      maxReceiveCount: 3,
    });
    const table = await clients.ddb.send(new DescribeTableCommand({ TableName: 'shop-orders' }));
    assert.equal(table.Table?.KeySchema?.[0]?.AttributeName, 'id');

    // Another service reads this stage's outputs as it would a CloudFormation stack's.
    const reader = await service(
      'reader',
      [
        'service: reader',
        'provider:',
        '  name: aws',
        '  runtime: nodejs20.x',
        '  environment:',
        '    QUEUE_ARN: ${cf:shop-dev.JobsArn}',
        "    SUBBED: ${cf:shop-dev.NoSuchOutput, 'fallback'}",
        'functions:',
        '  env:',
        '    handler: handler.main',
        '',
      ].join('\n'),
    );
    const readerDeployed = await runCli(['deploy'], { cwd: reader, env });
    assert.equal(readerDeployed.code, 0, readerDeployed.stderr);
    const readerSeen = JSON.parse(
      (await runCli(['invoke', '-f', 'env'], { cwd: reader, env })).stdout,
    ) as Record<string, string>;
    assert.equal(readerSeen.QUEUE_ARN, 'arn:aws:sqs:us-east-1:000000000000:shop-jobs');
    assert.equal(readerSeen.SUBBED, 'fallback');
    await writeFile(
      join(reader, 'serverless.yml'),
      'service: reader\nprovider:\n  name: aws\n  runtime: nodejs20.x\n  environment:\n    X: ${cf:shop-prod.JobsArn}\nfunctions:\n  env:\n    handler: handler.main\n',
    );
    const unknownStack = await runCli(['deploy'], { cwd: reader, env });
    assert.equal(unknownStack.code, 1);
    assert.match(
      unknownStack.stderr,
      /serverless\.yml:6:8 provider\.environment\.X: .*no deployed service stage is named "shop-prod"/,
    );
    const readerGone = await fetch(`${url}/v1/services/reader/stages/dev`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${env.NIMBUS_TOKEN}` },
    });
    assert.equal(readerGone.status, 200);

    // deploy function --update-config: its intrinsics resolve against the deployed resources.
    const updated = await runCli(['deploy', 'function', '-f', 'env', '--update-config'], {
      cwd,
      env,
    });
    assert.equal(updated.code, 0, updated.stderr);
    const reread = JSON.parse((await runCli(['invoke', '-f', 'env'], { cwd, env })).stdout);
    assert.equal(reread.TABLE_ARN, seen.TABLE_ARN);
    assert.equal(reread.QUEUE_URL, seen.QUEUE_URL);

    // The same definition again: nothing to do, nothing refused.
    const again = await runCli(['deploy', '--force'], { cwd, env });
    assert.equal(again.code, 0, again.stderr);

    // Redeploy without the table: it is dropped.
    await writeFile(join(cwd, 'serverless.yml'), serverlessYml({ table: false }));
    const dropped = await runCli(['deploy', '--verbose'], { cwd, env });
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stderr, /REMOVED - Orders \(AWS::DynamoDB::Table shop-orders\)/);
    await assert.rejects(
      clients.ddb.send(new DescribeTableCommand({ TableName: 'shop-orders' })),
      ResourceNotFoundException,
    );

    // An object in the bucket: remove deletes the queues but keeps the bucket, and says so.
    await clients.s3.send(
      new PutObjectCommand({ Bucket: 'shop-files-e2e', Key: 'keep.txt', Body: 'x' }),
    );
    const removed = await runCli(['remove'], { cwd, env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(
      removed.stderr,
      /Warning: Files \(AWS::S3::Bucket shop-files-e2e\) was not removed: the bucket is not empty/,
    );
    const queues = await clients.sqs.send(new ListQueuesCommand({}));
    assert.deepEqual(queues.QueueUrls ?? [], []);
    await clients.s3.send(new HeadBucketCommand({ Bucket: 'shop-files-e2e' }));
  });

  const refusals: [string, Partial<Parameters<typeof serverlessYml>[0]>, RegExp][] = [
    [
      'an unknown intrinsic',
      { extraEnv: "    MODE: !If [IsProd, 'a', 'b']" },
      /provider\.environment\.MODE\.Fn::If: the intrinsic function Fn::If is not supported/,
    ],
    [
      'a Ref to an unknown logical id',
      { extraEnv: '    OTHER: !Ref Nowhere' },
      /unknown logical id Nowhere/,
    ],
    [
      'a bad property type',
      {
        extraResource:
          '    Slow:\n      Type: AWS::SQS::Queue\n      Properties:\n        QueueName: slow\n        DelaySeconds: soon\n',
      },
      /resources\.Resources\.Slow\.Properties\.DelaySeconds: must be an integer from 0 to 900/,
    ],
  ];
  for (const [what, opts, message] of refusals) {
    test(`${what} refuses the deploy and creates nothing`, async () => {
      const name = `bad-${what.replaceAll(' ', '-')}`;
      const cwd = await service(name, serverlessYml({ table: true, ...opts }));
      const res = await runCli(['deploy'], { cwd, env });
      assert.equal(res.code, 1);
      assert.match(res.stderr, message);
      assert.match(res.stderr, /serverless\.yml:\d+/, 'the refusal names the line');
      const buckets = await clients.s3.send(new ListBucketsCommand({}));
      assert.deepEqual(
        (buckets.Buckets ?? []).map((b) => b.Name),
        ['shop-files-e2e'],
        'only the bucket kept by the first test',
      );
      assert.deepEqual((await clients.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [], []);
      assert.deepEqual((await clients.ddb.send(new ListTablesCommand({}))).TableNames, []);
      const info = await runCli(['info'], { cwd, env });
      assert.equal(info.code, 1, 'no deployment was recorded');
    });
  }
});
