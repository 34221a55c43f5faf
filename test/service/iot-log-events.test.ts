import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

function config(...lines: string[]): string {
  return yml(
    'service: svc',
    'provider:',
    '  name: aws',
    'functions:',
    '  hello:',
    '    handler: src/handler.hello',
    '    events:',
    ...lines,
  );
}

describe('iot and cloudwatchLog events at load', () => {
  it('keeps good ones', async () => {
    const { definition } = await load(
      config(
        `      - iot: {sql: "SELECT * FROM 'a/+'", sqlVersion: '2016-03-23', enabled: false}`,
        `      - cloudwatchLog: {logGroup: /aws/lambda/svc-dev-other, filter: '?ERROR ?WARN'}`,
      ),
    );
    assert.equal(definition.functions.hello?.events.length, 2);
  });

  it('refuses bad SQL, malformed filters and a subscription to its own log group at file:line', async () => {
    const cases: [string, string][] = [
      [`iot: {sql: "SELECT * FROM sensors"}`, 'iot: sql: FROM needs a quoted topic filter'],
      [`iot: {sql: "SELECT nope() FROM 'a'"}`, 'iot: sql: unknown function nope()'],
      [`iot: {sql: "SELECT * FROM 'a'", sqlVersion: '1999'}`, 'iot: sqlVersion must be one of'],
      [
        `cloudwatchLog: {logGroup: /aws/lambda/x, filter: '{ $.a = "x"'}`,
        'cloudwatchLog: filter: a JSON pattern ends with "}"',
      ],
      [
        `cloudwatchLog: {logGroup: other, filter: ERROR}`,
        'cloudwatchLog: logGroup must be /aws/lambda/',
      ],
      [`cloudwatchLog: /aws/lambda/svc-dev-hello`, 'cannot subscribe to its own output'],
    ];
    for (const [value, message] of cases) {
      await assert.rejects(load(config(`      - ${value}`)), (error: Error) => {
        assert.match(error.message, /^serverless\.yml:8:\d+ functions\.hello\.events\[0\]\./);
        assert.ok(error.message.includes(message), `${error.message} should say ${message}`);
        return true;
      });
    }
  });
});
