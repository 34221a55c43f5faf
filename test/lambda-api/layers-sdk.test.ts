/**
 * Lambda layers through @aws-sdk/client-lambda against a running platform with real function
 * processes, on SQLite and PostgreSQL: PublishLayerVersion (ZipFile and S3), Get/List/Delete,
 * CreateFunction and UpdateFunctionConfiguration with `Layers`, and functions that load modules
 * only a layer provides (Node require and import, Python import, later layers winning, the
 * function's own node_modules winning over every layer). Bad input answers in Lambda's shapes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  LambdaClient,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  type AwsPlatform,
  awsPlatformVariants,
  startAwsPlatform,
} from '../helpers/aws-platform.js';
import { makeZip } from '../helpers/zip.js';

const role = 'arn:aws:iam::000000000000:role/any';
const greetModule = (tag: string) => ({
  'nodejs/node_modules/greet/package.json': '{"name":"greet","main":"index.js"}',
  'nodejs/node_modules/greet/index.js': `exports.greet = (who) => 'hello ' + who + ' from ${tag}';\n`,
});

for (const variant of awsPlatformVariants)
  describe(`layers through @aws-sdk/client-lambda on ${variant.name}`, () => {
    let aws: AwsPlatform;
    let lambda: LambdaClient;
    let s3: S3Client;

    const failure = async (run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        return error as Error & { name: string; $metadata: { httpStatusCode?: number } };
      }
      assert.fail('expected the call to fail');
    };
    const invoke = async (name: string, payload: unknown = {}) => {
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload) }),
      );
      const text = Buffer.from(out.Payload ?? []).toString();
      assert.equal(out.FunctionError, undefined, text);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const publish = async (name: string, files: Record<string, string>, extra = {}) =>
      lambda.send(
        new PublishLayerVersionCommand({
          LayerName: name,
          Content: { ZipFile: await makeZip(files) },
          ...extra,
        }),
      );
    const create = async (name: string, files: Record<string, string>, extra: object) =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Role: role,
          Handler: 'index.handler',
          Code: { ZipFile: await makeZip(files) },
          ...extra,
        }),
      );

    before(async () => {
      aws = await startAwsPlatform(variant, { label: 'layers', runFunctions: true });
      const common = {
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
        maxAttempts: 1,
      };
      lambda = new LambdaClient(common);
      s3 = new S3Client({ ...common, forcePathStyle: true });
    });
    after(async () => {
      lambda?.destroy();
      s3?.destroy();
      await aws?.close();
    });

    test('a published layer is read back, listed and versioned', async () => {
      const v1 = await publish('shared-greet', greetModule('v1'), {
        Description: 'greetings',
        CompatibleRuntimes: ['nodejs20.x'],
        CompatibleArchitectures: ['x86_64'],
        LicenseInfo: 'MIT',
      });
      assert.equal(v1.Version, 1);
      assert.equal(
        v1.LayerVersionArn,
        'arn:aws:lambda:us-east-1:000000000000:layer:shared-greet:1',
      );
      assert.equal(v1.LayerArn, 'arn:aws:lambda:us-east-1:000000000000:layer:shared-greet');
      assert.equal(v1.Description, 'greetings');
      assert.deepEqual(v1.CompatibleRuntimes, ['nodejs20.x']);
      assert.equal(v1.LicenseInfo, 'MIT');
      assert.ok((v1.Content?.CodeSize ?? 0) > 0);
      const v2 = await publish('shared-greet', greetModule('v2'));
      assert.equal(v2.Version, 2);

      const got = await lambda.send(
        new GetLayerVersionCommand({ LayerName: 'shared-greet', VersionNumber: 1 }),
      );
      assert.equal(got.Content?.CodeSha256, v1.Content?.CodeSha256);
      const byArn = await lambda.send(
        new GetLayerVersionByArnCommand({ Arn: v2.LayerVersionArn! }),
      );
      assert.equal(byArn.Version, 2);

      const versions = await lambda.send(
        new ListLayerVersionsCommand({ LayerName: 'shared-greet' }),
      );
      assert.deepEqual(
        versions.LayerVersions?.map((v) => v.Version),
        [2, 1],
      );
      const layers = await lambda.send(new ListLayersCommand({}));
      const entry = layers.Layers?.find((l) => l.LayerName === 'shared-greet');
      assert.equal(entry?.LatestMatchingVersion?.Version, 2);
      // Only version 1 says it is compatible with nodejs20.x.
      const matching = await lambda.send(
        new ListLayersCommand({ CompatibleRuntime: 'nodejs20.x' }),
      );
      assert.equal(
        matching.Layers?.find((l) => l.LayerName === 'shared-greet')?.LatestMatchingVersion
          ?.Version,
        1,
      );
      const paged = await lambda.send(
        new ListLayerVersionsCommand({ LayerName: 'shared-greet', MaxItems: 1 }),
      );
      assert.equal(paged.LayerVersions?.length, 1);
      assert.ok(paged.NextMarker);
    });

    test('a Node function requires and imports a module only its layer provides', async () => {
      const layer = await publish('greet-mod', greetModule('layer'));
      await create(
        'layer-cjs',
        {
          'index.js':
            "const { greet } = require('greet');\nexports.handler = async () => ({ said: greet('cjs') });\n",
        },
        { Layers: [layer.LayerVersionArn!] },
      );
      assert.deepEqual(await invoke('layer-cjs'), { said: 'hello cjs from layer' });
      await create(
        'layer-esm',
        {
          'index.mjs':
            "import { greet } from 'greet';\nexport const handler = async () => ({ said: greet('esm'), root: process.env.NIMBUS_LAYERS_ROOT !== undefined });\n",
        },
        { Layers: [layer.LayerVersionArn!] },
      );
      assert.deepEqual(await invoke('layer-esm'), { said: 'hello esm from layer', root: true });

      const config = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: 'layer-cjs' }),
      );
      assert.equal(config.Layers?.[0]?.Arn, layer.LayerVersionArn);
      assert.ok((config.Layers?.[0]?.CodeSize ?? 0) > 0);
    });

    test('later layers override earlier ones, and the function own node_modules wins', async () => {
      const first = await publish('order-a', {
        ...greetModule('a'),
        'bin/tool': '#!/bin/sh\necho tool-a\n',
      });
      const second = await publish('order-b', greetModule('b'));
      const handler =
        "const { greet } = require('greet');\nconst { execFileSync } = require('node:child_process');\n" +
        "exports.handler = async () => ({ said: greet('x'), tool: require('node:fs').existsSync(process.env.NIMBUS_LAYERS_ROOT + '/bin/tool') });\n";
      await create(
        'layer-order',
        { 'index.js': handler },
        {
          Layers: [first.LayerVersionArn!, second.LayerVersionArn!],
        },
      );
      assert.deepEqual(await invoke('layer-order'), { said: 'hello x from b', tool: true });
      await create(
        'layer-own',
        {
          'index.js': handler,
          'node_modules/greet/package.json': '{"name":"greet","main":"index.js"}',
          'node_modules/greet/index.js': "exports.greet = (w) => 'own ' + w;\n",
        },
        { Layers: [first.LayerVersionArn!, second.LayerVersionArn!] },
      );
      assert.deepEqual(await invoke('layer-own'), { said: 'own x', tool: true });
    });

    test('a Python function imports from its layer', async () => {
      const layer = await publish('py-helpers', {
        'python/pyhelper.py': 'def double(n):\n    return n * 2\n',
      });
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'layer-py',
          Runtime: 'python3.12',
          Role: role,
          Handler: 'app.handler',
          Code: {
            ZipFile: await makeZip({
              'app.py':
                'import pyhelper\n\ndef handler(event, context):\n    return {"doubled": pyhelper.double(event["n"])}\n',
            }),
          },
          Layers: [layer.LayerVersionArn!],
        }),
      );
      assert.deepEqual(await invoke('layer-py', { n: 21 }), { doubled: 42 });
    });

    test('a layer from S3, added by UpdateFunctionConfiguration, makes a new version', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'layers' }));
      await s3.send(
        new PutObjectCommand({
          Bucket: 'layers',
          Key: 'greet.zip',
          Body: await makeZip(greetModule('s3')),
        }),
      );
      const layer = await lambda.send(
        new PublishLayerVersionCommand({
          LayerName: 'from-s3',
          Content: { S3Bucket: 'layers', S3Key: 'greet.zip' },
        }),
      );
      await create(
        'layer-later',
        {
          'index.js':
            "exports.handler = async () => { try { return { said: require('greet').greet('later') }; } catch { return { said: null }; } };\n",
        },
        {},
      );
      assert.deepEqual(await invoke('layer-later'), { said: null });
      const before = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: 'layer-later' }),
      );
      const updated = await lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'layer-later',
          Layers: [layer.LayerVersionArn!],
        }),
      );
      assert.notEqual(updated.RevisionId, before.RevisionId);
      assert.equal(updated.Layers?.[0]?.Arn, layer.LayerVersionArn);
      assert.deepEqual(await invoke('layer-later'), { said: 'hello later from s3' });

      // Deleting a layer version leaves the functions that use it running, as on Lambda.
      await lambda.send(
        new DeleteLayerVersionCommand({ LayerName: 'from-s3', VersionNumber: layer.Version! }),
      );
      const gone = await failure(() =>
        lambda.send(new GetLayerVersionCommand({ LayerName: 'from-s3', VersionNumber: 1 })),
      );
      assert.equal(gone.name, 'ResourceNotFoundException');
      assert.equal(gone.$metadata.httpStatusCode, 404);
      assert.deepEqual(await invoke('layer-later'), { said: 'hello later from s3' });
      // Numbers are never reused.
      const again = await publish('from-s3', greetModule('again'));
      assert.equal(again.Version, 2);
      // Deleting what is not there succeeds, as on Lambda.
      await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'nope', VersionNumber: 9 }));
    });

    test('bad layer input is refused in Lambda shapes, and nothing is created', async () => {
      const layer = await publish('refs', greetModule('refs'));
      const arn = layer.LayerVersionArn!;
      const tooMany = await failure(() =>
        create(
          'too-many',
          { 'index.js': 'exports.handler = async () => 1;' },
          {
            Layers: [arn, arn, arn, arn, arn, arn],
          },
        ),
      );
      assert.equal(tooMany.name, 'InvalidParameterValueException');
      assert.match(tooMany.message, /more than 5 layers/);
      const badArn = await failure(() =>
        create(
          'bad-arn',
          { 'index.js': 'exports.handler = async () => 1;' },
          {
            Layers: ['arn:aws:lambda:us-east-1:000000000000:function:refs'],
          },
        ),
      );
      assert.equal(badArn.name, 'ValidationException');
      const unknown = await failure(() =>
        create(
          'unknown-layer',
          { 'index.js': 'exports.handler = async () => 1;' },
          {
            Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:refs:99'],
          },
        ),
      );
      assert.equal(unknown.name, 'InvalidParameterValueException');
      assert.match(unknown.message, /does not exist/);
      const notZip = await failure(() =>
        lambda.send(
          new PublishLayerVersionCommand({
            LayerName: 'broken',
            Content: { ZipFile: Buffer.from('not a zip at all') },
          }),
        ),
      );
      assert.equal(notZip.name, 'InvalidParameterValueException');
      const badName = await failure(() =>
        lambda.send(new GetLayerVersionCommand({ LayerName: 'bad name!', VersionNumber: 1 })),
      );
      assert.equal(badName.name, 'ValidationException');
      const noContent = await failure(() =>
        lambda.send(new PublishLayerVersionCommand({ LayerName: 'empty', Content: {} })),
      );
      assert.equal(noContent.name, 'InvalidParameterValueException');
      const badRuntime = await failure(() =>
        publish('rt', greetModule('rt'), {
          CompatibleRuntimes: ['cobol1'],
        }),
      );
      assert.equal(badRuntime.name, 'ValidationException');
      const listed = await lambda.send(new ListLayersCommand({}));
      assert.ok(!listed.Layers?.some((l) => ['broken', 'empty', 'rt'].includes(l.LayerName!)));
    });

    if (variant.name === 'sqlite') {
      test('function code and layers over 250 MB unzipped are refused', async () => {
        // 130 MB of zeros zips to well under a megabyte; listed twice it passes Lambda's cap.
        const big = await publish('big', { 'data/zeros.bin': '\0'.repeat(130 * 1024 * 1024) });
        const refused = await failure(() =>
          create(
            'too-big',
            { 'index.js': 'exports.handler = async () => 1;' },
            {
              Layers: [big.LayerVersionArn!, big.LayerVersionArn!],
            },
          ),
        );
        assert.equal(refused.name, 'InvalidParameterValueException');
        assert.match(refused.message, /exceeds the maximum allowed size of 262144000 bytes/);
      });
    }
  });
