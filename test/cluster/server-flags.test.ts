import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closedPort } from '../helpers/closed-port.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Cluster flags that cannot work are refused before anything starts (no port, no data dir). */
describe('nimbus server cluster flags', () => {
  const cases: [string[], RegExp][] = [
    [['--blobs', 's3://bucket'], /--blobs must be local or postgres, not "s3:\/\/bucket"/],
    [['--blobs', 'postgres'], /--blobs postgres needs a postgres:\/\/ --database-url/],
    [['--node-name', 'a b'], /--node-name must be 1 to 100 letters/],
    [['--node-name', 'x'.repeat(5000)], /--node-name must be 1 to 100 letters/],
    [['--nats-url', 'http://127.0.0.1:4222'], /--nats-url must be nats:\/\//],
    [['--nats-prefix', 'p'], /--nats-prefix needs --nats-url/],
    [
      ['--nats-url', 'nats://127.0.0.1:4222', '--nats-prefix', 'a.b'],
      /--nats-prefix must be 1 to 64 letters/,
    ],
    [
      ['--nats-url', 'nats://127.0.0.1:4222', '--nats-prefix', 'x'.repeat(5000)],
      /--nats-prefix must be 1 to 64 letters/,
    ],
  ];
  for (const [args, message] of cases) {
    test(`refuses ${args.join(' ').slice(0, 40)}`, async () => {
      const tmp = await makeTempDir();
      try {
        const run = await runCli(['server', '--port', '0', '--data-dir', tmp.dir, ...args], {
          cwd: tmp.dir,
          env: { HOME: tmp.dir },
        });
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, message);
        assert.ok(run.stderr.length < 400, 'a hostile value is not echoed whole');
      } finally {
        await tmp.cleanup();
      }
    });
  }

  test('a NATS server that cannot be reached stops the start, named without its password', async () => {
    const tmp = await makeTempDir();
    try {
      const port = await closedPort();
      const run = await runCli(
        [
          'server',
          '--port',
          '0',
          '--data-dir',
          tmp.dir,
          '--mqtt-port',
          'off',
          '--nats-url',
          `nats://nimbus:s3cret-pass@127.0.0.1:${port}`,
        ],
        { cwd: tmp.dir, env: { HOME: tmp.dir } },
      );
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, new RegExp(`cannot reach NATS at nats://127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(run.stderr + run.stdout, /s3cret-pass/);
    } finally {
      await tmp.cleanup();
    }
  });
});
