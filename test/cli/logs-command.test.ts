import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseStartTime } from '../../src/cli/commands/logs.js';
import { main } from '../../src/cli/main.js';
import type { LogEvent } from '../../src/model/invocation.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { type LogsServer, startLogsServer, until } from '../observe/logs-server.js';

const yml = `service: svc
provider:
  name: aws
  runtime: nodejs20.x
functions:
  hello:
    handler: handler.hello
  bye:
    handler: handler.bye
`;

describe('nimbus logs', () => {
  let server: LogsServer;
  let cwd: string;
  let env: Record<string, string>;
  let cleanup: () => Promise<void>;
  const line = (message: string, ago: number, requestId = 'r1'): LogEvent => ({
    functionName: 'svc-dev-hello',
    version: '1',
    logStream: '2024/01/02/[1]i1',
    requestId,
    timestamp: Date.now() - ago,
    message,
  });

  before(async () => {
    server = await startLogsServer({ functions: ['svc-dev-hello', 'svc-dev-bye'] });
    const tmp = await makeTempDir();
    cwd = join(tmp.dir, 'svc');
    await mkdir(join(tmp.dir, 'home'));
    await mkdir(cwd);
    await writeFile(join(cwd, 'serverless.yml'), yml);
    await writeFile(join(cwd, 'handler.js'), 'exports.hello = async () => 1;\n');
    env = { HOME: join(tmp.dir, 'home'), NIMBUS_ENDPOINT: server.url, NIMBUS_TOKEN: server.token };
    cleanup = async () => {
      await server.close();
      await tmp.cleanup();
    };
    const iso = (ago: number) => new Date(Date.now() - ago).toISOString();
    for (const e of [
      line('too old for the default window', 11 * 60_000),
      line('START RequestId: r1 Version: 1', 60_000),
      line(`${iso(60_000)}\tr1\tINFO\thello from the function`, 60_000),
      line(`${iso(59_000)}\tr1\tERROR\tsomething broke`, 59_000),
      line('END RequestId: r1', 59_000),
      line('REPORT RequestId: r1\tDuration: 3.50 ms\tMax Memory Used: 64 MB\t', 59_000),
    ]) {
      server.pipeline.write(e);
    }
  });
  after(() => cleanup());

  test('prints the last 10 minutes, formatted as the Serverless Framework does', async () => {
    const run = await runCli(['logs', '-f', 'hello'], { cwd, env });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4, run.stdout);
    assert.equal(lines[0], 'START');
    assert.match(
      lines[1]!,
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\tINFO\thello from the function$/,
    );
    assert.match(lines[2]!, /\tERROR\tsomething broke$/);
    assert.equal(lines[3], 'END Duration: 3.50 ms Memory Used: 64 MB');
    assert.ok(!run.stdout.includes('\u001b['), 'no colour when stdout is not a TTY');
  });

  test('--startTime, --filter and --json', async () => {
    const run = await runCli(
      ['logs', '-f', 'hello', '--startTime', '1h', '--filter', 'old', '--json'],
      {
        cwd,
        env,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogEvent & { id: number });
    assert.deepEqual(
      events.map((e) => e.message),
      ['too old for the default window'],
    );
    assert.equal(events[0]!.functionName, 'svc-dev-hello');
  });

  test('unknown key: the error lists the keys; an undeployed function says so', async () => {
    const unknown = await runCli(['logs', '-f', 'nope'], { cwd, env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Function "nope" is not defined.*service "svc" are: hello, bye/);

    await writeFile(join(cwd, 'serverless.yml'), yml.replace('  bye:', '  gone:'));
    try {
      const gone = await runCli(['logs', '-f', 'gone'], { cwd, env });
      assert.equal(gone.code, 1);
      assert.match(
        gone.stderr,
        /"gone" \(svc-dev-gone\) of service "svc" is not deployed to stage "dev"/,
      );
    } finally {
      await writeFile(join(cwd, 'serverless.yml'), yml);
    }

    const missing = await runCli(['logs'], { cwd, env });
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      '✖ Missing -f <function>; the functions of service "svc" are: hello, bye\n',
    );
    const typo = await runCli(['logs', '-f', 'helo'], { cwd, env });
    assert.match(
      typo.stderr,
      /Function "helo" is not defined in this service \(did you mean "hello"\?\)/,
    );

    const bad = await runCli(['logs', '-f', 'hello', '--startTime', 'yesterday-ish'], { cwd, env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--startTime "yesterday-ish" is not a time/);
  });

  test('-t prints a line written after it started, and stops on SIGINT', async () => {
    let stdout = '';
    const out = new Writable({
      write(chunk, _enc, done) {
        stdout += chunk.toString();
        done();
      },
    });
    const err = new Writable({ write: (_c, _e, done) => done() });
    const running = main(['node', 'nimbus', 'logs', '-f', 'hello', '-t'], {
      cwd,
      env,
      stdout: out,
      stderr: err,
    });
    await until(() => server.followers.get('svc-dev-hello') === 1);
    assert.equal(stdout, '', 'history is the last 10 seconds only');
    server.pipeline.write(line(`${new Date().toISOString()}\tr2\tINFO\twritten later`, 0, 'r2'));
    await until(() => stdout.includes('written later'));
    process.emit('SIGINT');
    assert.equal(await running, 0);
    assert.match(stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\tINFO\twritten later\n$/);
    await until(() => server.followers.get('svc-dev-hello') === 0);
    assert.equal(process.listenerCount('SIGINT'), 0, 'the SIGINT handler is removed');
  });
});

test('parseStartTime: relative, epoch ms and dates (no zone means UTC)', () => {
  const now = Date.UTC(2024, 0, 10, 12, 0, 0);
  assert.equal(parseStartTime('30m', now), now - 30 * 60_000);
  assert.equal(parseStartTime('2h', now), now - 2 * 3_600_000);
  assert.equal(parseStartTime('3d', now), now - 3 * 86_400_000);
  assert.equal(parseStartTime('1704067200000', now), 1704067200000);
  assert.equal(parseStartTime('2024-01-02', now), Date.UTC(2024, 0, 2));
  assert.equal(parseStartTime('2024-01-02 10:30', now), Date.UTC(2024, 0, 2, 10, 30));
  assert.equal(parseStartTime('2024-01-02T10:30:00+02:00', now), Date.UTC(2024, 0, 2, 8, 30));
});
