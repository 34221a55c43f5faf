/**
 * `nimbus server --smtp-url`: a URL that cannot be a mail server is refused before anything
 * starts; a good one is announced without its password, and nothing the server prints while it
 * runs holds the password.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { startServerProcess } from '../helpers/server-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitUntil } from '../helpers/wait-for.js';

describe('nimbus server --smtp-url', () => {
  const cases: [string[], RegExp][] = [
    [['--smtp-url', 'http://mail.example'], /--smtp-url must start with smtp:\/\/ or smtps:\/\//],
    [['--smtp-url', 'not a url'], /--smtp-url is not a URL/],
    [
      ['--smtp-url', 'smtp://mail.example', '--smtp-from', 'nobody'],
      /--smtp-from must be an email address/,
    ],
  ];
  for (const [args, message] of cases) {
    test(`refuses ${args.join(' ')}`, async () => {
      const tmp = await makeTempDir();
      try {
        const run = await runCli(['server', '--port', '0', '--data-dir', tmp.dir, ...args], {
          cwd: tmp.dir,
          env: { HOME: tmp.dir },
        });
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, message);
      } finally {
        await tmp.cleanup();
      }
    });
  }

  test('announces the mail server without its password', async () => {
    const tmp = await makeTempDir();
    const server = await startServerProcess({
      dataDir: tmp.dir,
      home: tmp.dir,
      args: ['--smtp-url', 'smtp://mailer:very-secret-word@127.0.0.1:2525', '--log-format', 'json'],
    });
    try {
      await waitUntil(() => /^Email \(user pools/m.test(server.output()), 'the SMTP line');
      assert.match(
        server.output(),
        /SNS email subscriptions\): by SMTP through smtp:\/\/mailer:\*\*\*@127\.0\.0\.1:2525/,
      );
      assert.doesNotMatch(server.output(), /very-secret-word/);
    } finally {
      process.kill(-server.child.pid!, 'SIGTERM');
      await server.exited;
      await tmp.cleanup();
    }
  });
});
