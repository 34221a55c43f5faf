import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertConfigError, cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

describe('concurrency: requests one instance serves at once (docs/runtimes.md)', () => {
  it('defaults to Lambda contract: absent from the definition', async () => {
    const loaded = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
      ),
    );
    assert.equal(loaded.definition.functions.hello?.concurrency, undefined);
  });

  it('a function sets its own; provider.nimbus.concurrency is the default of Node functions only', async () => {
    const loaded = await load(
      yml(
        'service: svc',
        'provider:',
        '  name: aws',
        '  nimbus:',
        '    concurrency: 8',
        'functions:',
        '  hello:',
        '    handler: src/handler.hello',
        '  own:',
        '    handler: src/handler.hello',
        '    concurrency: 2',
        '  py:',
        '    handler: app.main',
        '    runtime: python3.12',
      ),
      { 'app.py': 'def main(event, context):\n    return 1\n' },
    );
    assert.equal(loaded.definition.functions.hello?.concurrency, 8);
    assert.equal(loaded.definition.functions.own?.concurrency, 2);
    assert.equal(loaded.definition.functions.py?.concurrency, undefined);
  });

  it('a Python function asking for more than one is refused where it says so', async () => {
    await assertConfigError(
      load(
        yml(
          'service: svc',
          'provider:',
          '  name: aws',
          'functions:',
          '  py:',
          '    handler: app.main',
          '    runtime: python3.12',
          '    concurrency: 4',
        ),
        { 'app.py': 'def main(event, context):\n    return 1\n' },
      ),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:8:18 functions.py.concurrency: a python instance serves one request at a time; only Node.js functions may set more than 1',
    );
  });

  it('out of range is refused with its range', async () => {
    await assertConfigError(
      load(
        yml(
          'service: svc',
          'provider:',
          '  name: aws',
          'functions:',
          '  hello:',
          '    handler: src/handler.hello',
          '    concurrency: 0',
        ),
      ),
      'NIMBUS_CONFIG_INVALID',
      'serverless.yml:7:18 functions.hello.concurrency: must be an integer from 1 to 1000',
    );
  });
});
