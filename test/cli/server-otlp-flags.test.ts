/**
 * `nimbus server --otlp-sample-ratio`: a share of traces above 0 and at most 1; anything else is
 * refused before anything starts (docs/tracing.md).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('nimbus server --otlp-sample-ratio', () => {
  for (const ratio of ['0', '1.5', '-0.1', 'some', ' ']) {
    test(`refuses "${ratio}"`, async () => {
      const tmp = await makeTempDir();
      try {
        const run = await runCli(
          [
            'server',
            '--port',
            '0',
            '--data-dir',
            tmp.dir,
            '--otlp-endpoint',
            'http://127.0.0.1:4318',
            '--otlp-sample-ratio',
            ratio,
          ],
          { cwd: tmp.dir, env: { HOME: tmp.dir } },
        );
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /--otlp-sample-ratio must be a number above 0 and at most 1/);
      } finally {
        await tmp.cleanup();
      }
    });
  }
});
