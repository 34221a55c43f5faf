import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closedPort } from '../helpers/closed-port.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Cluster flags that cannot work are refused before anything starts (no port, no data dir). */
describe('nimbus server cluster flags', () => {
  const cases: [string[], RegExp][] = [
    [
      ['--blobs', 'ftp://bucket'],
      /--blobs must be local, postgres or s3:\/\/bucket\[\/prefix\], not "ftp:/,
    ],
    [['--blobs', `ftp://${'x'.repeat(5000)}`], /--blobs must be local, postgres or s3:/],
    [['--blobs', 's3://Bad_Bucket'], /expected s3:\/\/bucket or s3:\/\/bucket\/prefix/],
    [['--blobs', 's3://bucket/../up'], /expected s3:\/\/bucket or s3:\/\/bucket\/prefix/],
    [['--blobs-endpoint', 'http://127.0.0.1:9000'], /need --blobs s3:\/\//],
    [
      ['--blobs', 's3://bucket', '--blobs-endpoint', 'http://user:pw@127.0.0.1:9000'],
      /--blobs-endpoint must be an http\(s\):\/\/host\[:port\] URL, without credentials/,
    ],
    [['--blobs', 's3://bucket', '--blobs-path-style', 'maybe'], /--blobs-path-style must be on/],
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

  test('S3 blob keys: half a pair is refused; an unreachable bucket stops the start, keys unsaid', async () => {
    const tmp = await makeTempDir();
    try {
      const base = ['server', '--port', '0', '--data-dir', tmp.dir, '--mqtt-port', 'off'];
      const half = await runCli([...base, '--blobs', 's3://bucket'], {
        cwd: tmp.dir,
        env: { HOME: tmp.dir, NIMBUS_BLOBS_ACCESS_KEY_ID: 'AKIDHALFPAIR' },
      });
      assert.notEqual(half.code, 0);
      assert.match(
        half.stderr,
        /NIMBUS_BLOBS_ACCESS_KEY_ID and NIMBUS_BLOBS_SECRET_ACCESS_KEY go together/,
      );
      const port = await closedPort();
      const run = await runCli(
        [...base, '--blobs', 's3://artifacts/n1', '--blobs-endpoint', `http://127.0.0.1:${port}`],
        {
          cwd: tmp.dir,
          env: {
            HOME: tmp.dir,
            NIMBUS_BLOBS_ACCESS_KEY_ID: 'AKIDSEENNOWHERE',
            NIMBUS_BLOBS_SECRET_ACCESS_KEY: 'secret-seen-nowhere',
          },
        },
      );
      assert.notEqual(run.code, 0);
      assert.match(
        run.stderr,
        new RegExp(`blob storage S3 s3://artifacts/n1/ at http://127\\.0\\.0\\.1:${port}`),
      );
      assert.doesNotMatch(run.stderr + run.stdout, /AKIDSEENNOWHERE|secret-seen-nowhere/);
    } finally {
      await tmp.cleanup();
    }
  });
});
