/**
 * Lambda's control operations (functions, versions, aliases with RoutingConfig, account
 * settings) through the real @aws-sdk/client-lambda against a real platform, with a service
 * deployed by the CLI and real function processes.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const yml = [
  'service: ctl',
  'provider:',
  '  name: aws',
  '  runtime: nodejs20.x',
  'functions:',
  '  hello:',
  '    handler: handler.hello',
  '    memorySize: 256',
  '    timeout: 9',
  '    events:',
  '      - httpApi: GET /hello',
  '',
].join('\n');
const handler = (tag: string) =>
  `exports.hello = async () => ({ statusCode: 200, body: JSON.stringify({ tag: '${tag}' }) });\n`;

describe('Lambda control API through the AWS SDK v3', () => {
  let platform: RunningPlatform;
  let cleanup: () => Promise<void>;
  let lambda: LambdaClient;
  let scoped: LambdaClient;
  let dir: string;
  let env: Record<string, string>;
  const name = 'ctl-dev-hello';

  const failure = async (run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (error) {
      return error as Error & { $metadata: { httpStatusCode?: number } };
    }
    assert.fail('expected the call to fail');
  };
  const deploy = async (tag: string) => {
    await writeFile(join(dir, 'handler.js'), handler(tag));
    const res = await runCli(['deploy'], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
  };
  const createKey = async (scope?: unknown) => {
    const res = await fetch(`${platform.url}/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platform.adminToken}` },
      body: JSON.stringify(scope ? { scope } : {}),
    });
    assert.equal(res.status, 201);
    return ((await res.json()) as { key: { id: string; secret: string } }).key;
  };
  const client = (key: { id: string; secret: string }) =>
    new LambdaClient({
      endpoint: platform.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
      maxAttempts: 1,
    });

  before(async () => {
    const tmp = await makeTempDir();
    dir = join(tmp.dir, 'svc');
    await mkdir(dir);
    await mkdir(join(tmp.dir, 'home'));
    await writeFile(join(dir, 'serverless.yml'), yml);
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
    });
    cleanup = async () => {
      lambda?.destroy();
      scoped?.destroy();
      await platform.close();
      await tmp.cleanup();
    };
    env = {
      HOME: join(tmp.dir, 'home'),
      NIMBUS_ENDPOINT: platform.url,
      NIMBUS_TOKEN: platform.adminToken,
    };
    await deploy('one');
    await deploy('two');
    lambda = client(await createKey());
    scoped = client(await createKey({ service: 'ctl' }));
  });
  after(() => cleanup());

  test('ListFunctions and GetFunctionConfiguration answer in Lambda shapes', async () => {
    const list = await lambda.send(new ListFunctionsCommand({}));
    const fn = list.Functions?.find((f) => f.FunctionName === name);
    assert.ok(fn, JSON.stringify(list.Functions));
    assert.equal(fn.FunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}`);
    assert.equal(fn.Runtime, 'nodejs20.x');
    assert.equal(fn.Handler, 'handler.hello');
    assert.equal(fn.MemorySize, 256);
    assert.equal(fn.Timeout, 9);
    assert.equal(fn.Version, '$LATEST');
    assert.equal(fn.State, 'Active');
    assert.match(fn.LastModified ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.match(fn.CodeSha256 ?? '', /^[A-Za-z0-9+/]{43}=$/);
    assert.ok((fn.CodeSize ?? 0) > 0);

    const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    const versions = all.Functions?.filter((f) => f.FunctionName === name).map((f) => f.Version);
    assert.deepEqual(versions, ['$LATEST', '1', '2']);

    const v1 = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: '1' }),
    );
    assert.equal(v1.Version, '1');
    assert.equal(v1.FunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}:1`);
    assert.notEqual(v1.CodeSha256, fn.CodeSha256);
  });

  test('CodeSha256 is the base64 SHA-256 of the deployed zip', async () => {
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    const versions = await (
      await fetch(`${platform.url}/v1/functions/${name}`, {
        headers: { authorization: `Bearer ${platform.adminToken}` },
      })
    ).json();
    const hex = JSON.stringify(versions).match(/[0-9a-f]{64}/g) ?? [];
    const b64 = hex.map((h) => Buffer.from(h, 'hex').toString('base64'));
    assert.ok(b64.includes(got.Configuration!.CodeSha256!), JSON.stringify(versions));
    assert.equal(got.Code?.RepositoryType, 'S3');
  });

  test('ListVersionsByFunction, ListAliases and GetAlias show the stage alias', async () => {
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1', '2'],
    );
    const paged = await lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: name, MaxItems: 2 }),
    );
    assert.equal(paged.Versions?.length, 2);
    const rest = await lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: name, Marker: paged.NextMarker! }),
    );
    assert.deepEqual(
      rest.Versions?.map((v) => v.Version),
      ['2'],
    );
    assert.equal(rest.NextMarker, undefined);

    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: name }));
    assert.deepEqual(
      aliases.Aliases?.map((a) => [a.Name, a.FunctionVersion]),
      [['dev', '2']],
    );
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'dev' }));
    assert.equal(alias.AliasArn, `arn:aws:lambda:us-east-1:000000000000:function:${name}:dev`);
  });

  test('GetAccountSettings counts the functions and their code', async () => {
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    assert.equal(settings.AccountUsage?.FunctionCount, 1);
    assert.ok((settings.AccountUsage?.TotalCodeSize ?? 0) > 0);
    assert.ok((settings.AccountLimit?.ConcurrentExecutions ?? 0) > 0);
  });

  test('named aliases: create, invoke by qualifier, update, delete', async () => {
    const created = await lambda.send(
      new CreateAliasCommand({
        FunctionName: name,
        Name: 'live',
        FunctionVersion: '1',
        Description: 'the old one',
      }),
    );
    assert.equal(created.FunctionVersion, '1');
    const out = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'live' }));
    assert.equal(out.ExecutedVersion, '1');
    assert.match(new TextDecoder().decode(out.Payload), /one/);

    const conflict = await failure(() =>
      lambda.send(
        new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2' }),
      ),
    );
    assert.equal(conflict.name, 'ResourceConflictException');
    assert.equal(conflict.$metadata.httpStatusCode, 409);

    const updated = await lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '2' }),
    );
    assert.equal(updated.FunctionVersion, '2');
    assert.equal(updated.Description, 'the old one');
    const again = await lambda.send(new InvokeCommand({ FunctionName: `${name}:live` }));
    assert.equal(again.ExecutedVersion, '2');

    await lambda.send(new DeleteAliasCommand({ FunctionName: name, Name: 'live' }));
    const gone = await failure(() =>
      lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' })),
    );
    assert.equal(gone.name, 'ResourceNotFoundException');
    const invokeGone = await failure(() =>
      lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'live' })),
    );
    assert.equal(invokeGone.name, 'ResourceNotFoundException');
  });

  test('a 10% canary on the stage alias serves 10% ± 3% of 2,000 requests', async () => {
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: name,
        Name: 'dev',
        RoutingConfig: { AdditionalVersionWeights: { '1': 0.1 } },
      }),
    );
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'dev' }));
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { '1': 0.1 });
    const counts = new Map<string, number>();
    let next = 0;
    const worker = async () => {
      while (next < 2000) {
        next++;
        const out = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'dev' }));
        const body = new TextDecoder().decode(out.Payload);
        // The version header and the code that ran agree.
        assert.equal(out.ExecutedVersion === '1', body.includes('one'), body);
        counts.set(out.ExecutedVersion!, (counts.get(out.ExecutedVersion!) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const canary = counts.get('1') ?? 0;
    assert.equal(canary + (counts.get('2') ?? 0), 2000);
    assert.ok(canary >= 140 && canary <= 260, `canary served ${canary} of 2000`);

    // The gateway honours the same alias.
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      seen.add(
        ((await (await fetch(`${platform.url}/ctl-dev/hello`)).json()) as { tag: string }).tag,
      );
    }
    assert.deepEqual([...seen].sort(), ['one', 'two']);

    // An empty RoutingConfig ends the canary.
    const cleared = await lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: 'dev', RoutingConfig: {} }),
    );
    assert.equal(cleared.RoutingConfig, undefined);
    for (let i = 0; i < 20; i++) {
      const out = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'dev' }));
      assert.equal(out.ExecutedVersion, '2');
    }
  });

  test('refusals in Lambda shapes, and nothing changes', async () => {
    const cases: [() => Promise<unknown>, string, number][] = [
      [
        () => lambda.send(new GetFunctionCommand({ FunctionName: 'ghost' })),
        'ResourceNotFoundException',
        404,
      ],
      [
        () =>
          lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: '99' })),
        'ResourceNotFoundException',
        404,
      ],
      [
        () => lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'nope' })),
        'ResourceNotFoundException',
        404,
      ],
      [
        () =>
          lambda.send(
            new CreateAliasCommand({ FunctionName: name, Name: 'x', FunctionVersion: '99' }),
          ),
        'ResourceNotFoundException',
        404,
      ],
      [
        () =>
          lambda.send(
            new CreateAliasCommand({ FunctionName: name, Name: 'x', FunctionVersion: '$LATEST' }),
          ),
        'InvalidParameterValueException',
        400,
      ],
      [
        () =>
          lambda.send(
            new CreateAliasCommand({ FunctionName: name, Name: '12', FunctionVersion: '1' }),
          ),
        'ValidationException',
        400,
      ],
      [
        () =>
          lambda.send(
            new CreateAliasCommand({
              FunctionName: name,
              Name: 'x',
              FunctionVersion: '2',
              RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
            }),
          ),
        'InvalidParameterValueException',
        400,
      ],
      [
        () =>
          lambda.send(
            new CreateAliasCommand({
              FunctionName: name,
              Name: 'x',
              FunctionVersion: '2',
              RoutingConfig: { AdditionalVersionWeights: { '1': 1.5 } },
            }),
          ),
        'ValidationException',
        400,
      ],
      [
        () =>
          lambda.send(
            new UpdateAliasCommand({ FunctionName: name, Name: 'dev', RevisionId: 'stale' }),
          ),
        'PreconditionFailedException',
        412,
      ],
      [
        () => lambda.send(new DeleteAliasCommand({ FunctionName: name, Name: 'dev' })),
        'ResourceConflictException',
        409,
      ],
      [() => lambda.send(new ListFunctionsCommand({ MaxItems: 0 })), 'ValidationException', 400],
      [() => scoped.send(new ListFunctionsCommand({})), 'AccessDeniedException', 403],
      [
        () =>
          scoped.send(
            new UpdateAliasCommand({ FunctionName: name, Name: 'dev', FunctionVersion: '1' }),
          ),
        'AccessDeniedException',
        403,
      ],
    ];
    for (const [run, type, status] of cases) {
      const error = await failure(run);
      assert.equal(error.name, type, `${error.name}: ${error.message}`);
      assert.equal(error.$metadata.httpStatusCode, status);
    }
    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: name }));
    assert.deepEqual(
      aliases.Aliases?.map((a) => [a.Name, a.FunctionVersion, a.RoutingConfig]),
      [['dev', '2', undefined]],
    );
  });

  test('a deploy that moves the stage alias ends its canary', async () => {
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: name,
        Name: 'dev',
        RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } },
      }),
    );
    await deploy('three');
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'dev' }));
    assert.equal(alias.FunctionVersion, '3');
    assert.equal(alias.RoutingConfig, undefined);
  });

  test('nimbus alias set --weight, clear, promote, and a named alias', async () => {
    const cli = async (args: string[]) => {
      const res = await runCli(['alias', ...args, '-f', 'hello'], { cwd: dir, env });
      assert.equal(res.code, 0, res.stderr);
      return res.stdout + res.stderr;
    };
    const dev = () => lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'dev' }));
    assert.match(await cli(['set', '--version', '2', '--weight', '10']), /10% to version 2/);
    assert.deepEqual((await dev()).RoutingConfig?.AdditionalVersionWeights, { '2': 0.1 });
    await cli(['clear']);
    assert.equal((await dev()).RoutingConfig, undefined);
    await cli(['set', '--version', '2', '--weight', '25']);
    await cli(['promote']);
    const promoted = await dev();
    assert.deepEqual([promoted.FunctionVersion, promoted.RoutingConfig], ['2', undefined]);
    await cli(['set', '-n', 'blue', '--version', '1']);
    const blue = await lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: 'blue' }));
    assert.equal(blue.ExecutedVersion, '1');

    const refused = await runCli(
      ['alias', 'set', '-f', 'hello', '--version', '2', '--weight', '150'],
      {
        cwd: dir,
        env,
      },
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--weight must be a percentage/);
    const noCanary = await runCli(['alias', 'promote', '-f', 'hello'], { cwd: dir, env });
    assert.notEqual(noCanary.code, 0);
    assert.match(noCanary.stderr, /has no canary version/);
    assert.equal((await dev()).FunctionVersion, '2');
  });

  test('configuration writes publish a version through the Deployer; PublishVersion answers the newest', async () => {
    const before = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    const newest = before.Versions!.at(-1)!;
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: name }));
    assert.equal(published.Version, newest.Version);
    assert.equal(published.$metadata.httpStatusCode, 201);

    const updated = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: name,
        Timeout: 12,
        Environment: { Variables: { MODE: 'blue' } },
      }),
    );
    assert.equal(updated.Timeout, 12);
    assert.equal(updated.Version, String(Number(newest.Version) + 1));
    assert.deepEqual(updated.Environment?.Variables, { MODE: 'blue' });
    const dev = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'dev' }));
    assert.equal(dev.FunctionVersion, updated.Version);

    await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: 3 }),
    );
    const reserved = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
    assert.equal(reserved.ReservedConcurrentExecutions, 3);
    // A configuration change keeps the function's concurrency.
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, Timeout: 13 }));
    const kept = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(kept.Concurrency?.ReservedConcurrentExecutions, 3);
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: name }));
    const none = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
    assert.equal(none.ReservedConcurrentExecutions, undefined);
    const out = await lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(out.StatusCode, 200);

    const versionsBefore = (
      await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }))
    ).Versions!.length;
    const refusals: [() => Promise<unknown>, string][] = [
      [
        () =>
          lambda.send(
            new UpdateFunctionConfigurationCommand({ FunctionName: name, MemorySize: 5 }),
          ),
        'InvalidParameterValueException',
      ],
      [
        () =>
          lambda.send(
            new UpdateFunctionConfigurationCommand({ FunctionName: name, Handler: 'x.y' }),
          ),
        'InvalidParameterValueException',
      ],
      [
        () =>
          lambda.send(
            new PutFunctionConcurrencyCommand({
              FunctionName: name,
              ReservedConcurrentExecutions: 100000,
            }),
          ),
        'InvalidParameterValueException',
      ],
      [
        () => lambda.send(new PublishVersionCommand({ FunctionName: name, CodeSha256: 'AAAA' })),
        'InvalidParameterValueException',
      ],
      [
        () =>
          lambda.send(
            new PutFunctionConcurrencyCommand({
              FunctionName: 'ghost',
              ReservedConcurrentExecutions: 1,
            }),
          ),
        'ResourceNotFoundException',
      ],
    ];
    for (const [run, type] of refusals) {
      const error = await failure(run);
      assert.equal(error.name, type, `${error.name}: ${error.message}`);
    }
    const versionsAfter = (
      await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }))
    ).Versions!.length;
    assert.equal(versionsAfter, versionsBefore);
  });

  test('malformed alias bodies over plain HTTP: Lambda-shaped 400s, nothing changed', async () => {
    const url = `${platform.url}/2015-03-31/functions/${name}/aliases`;
    const headers = { authorization: `Bearer ${platform.adminToken}` };
    const before = await (await fetch(url, { headers })).text();
    const bodies = [
      'nope',
      '[1]',
      '{"Name":"x","FunctionVersion":7}',
      '{"Name":"x","FunctionVersion":"1","RoutingConfig":[]}',
      '{"Name":"x","FunctionVersion":"1","RoutingConfig":{"AdditionalVersionWeights":{"2":"half"}}}',
    ];
    for (const body of bodies) {
      const res = await fetch(url, { method: 'POST', headers, body });
      assert.equal(res.status, 400, body);
      assert.match(
        res.headers.get('x-amzn-errortype') ?? '',
        /^(InvalidParameterValueException|ValidationException)$/,
      );
      const answer = (await res.json()) as { Type: string; message: string };
      assert.equal(answer.Type, 'User');
      assert.ok(answer.message);
    }
    const unsigned = await fetch(url, {
      method: 'POST',
      body: '{"Name":"x","FunctionVersion":"1"}',
    });
    assert.equal(unsigned.status, 403);
    assert.equal(await (await fetch(url, { headers })).text(), before);
  });
});
