import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/service/config-error.js';
import { cleanupServiceDirs, load, yml } from './service-dir.js';

after(cleanupServiceDirs);

const head = ['service: svc', 'provider:', '  name: aws', 'functions:'];
const listener =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/my-lb/50dc6c495c0c9188/f2f7dc8efc522ab2';

async function refusal(text: string): Promise<readonly string[]> {
  try {
    await load(text);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected the load to fail');
}

describe('alb events in serverless.yml', () => {
  it('loads the Framework shape without a warning; healthCheck is accepted', async () => {
    const { warnings, definition } = await load(
      yml(
        ...head,
        '  a:',
        '    handler: src/handler.hello',
        '    events:',
        '      - alb:',
        `          listenerArn: ${listener}`,
        '          priority: 1',
        '          multiValueHeaders: true',
        '          healthCheck: {path: /health, intervalSeconds: 30}',
        '          conditions:',
        '            path: /hello',
        '            method: [GET, POST]',
        '            host: [example.com, "*.example.org"]',
        '            header: {name: X-Env, values: [prod, "pre*"]}',
        '            query: {bar: true}',
        '            ip: [192.168.0.0/16, "fe80::/10"]',
        '      - alb:',
        '          listenerArn: {Ref: HttpListener}',
        '          priority: 1',
        '          conditions: {path: "/other*"}',
      ),
    );
    assert.deepEqual(warnings, []);
    const events = definition.functions.a?.events ?? [];
    assert.equal(events.length, 2);
    assert.equal(events[0]?.kind, 'alb');
  });

  it('refuses bad rules with file:line: priority twice on a listener, bad CIDR, no conditions, bad ARN', async () => {
    const problems = await refusal(
      yml(
        ...head,
        '  a:',
        '    handler: src/handler.hello',
        '    events:',
        '      - alb:',
        `          listenerArn: ${listener}`,
        '          priority: 5',
        '          conditions: {path: /a}',
        '  b:',
        '    handler: src/handler.hello',
        '    events:',
        '      - alb:',
        `          listenerArn: ${listener}`,
        '          priority: 5',
        '          conditions: {path: /b}',
      ),
    );
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^serverless\.yml:17:\d+ functions\.b\.events\[0\]\.alb\.priority: priority 5 is already used on this listener by function "a"/,
    );

    const bad = await refusal(
      yml(
        ...head,
        '  a:',
        '    handler: src/handler.hello',
        '    events:',
        '      - alb:',
        `          listenerArn: ${listener}`,
        '          priority: 2',
        '          conditions:',
        '            ip: [10.0.0.0/33]',
      ),
    );
    assert.match(
      bad.join('\n'),
      /serverless\.yml:12:\d+ .*alb\.conditions\.ip: "10\.0\.0\.0\/33" is not a CIDR/,
    );

    const none = await refusal(
      yml(
        ...head,
        '  a:',
        '    handler: src/handler.hello',
        '    events:',
        '      - alb:',
        `          listenerArn: ${listener}`,
        '          priority: 2',
      ),
    );
    assert.match(none.join('\n'), /alb\.conditions: is required: at least one of path, host/);

    // One rule per load: the CLI reports the first problem of a definition.
    const one = async (...event: string[]) =>
      (
        await refusal(
          yml(
            ...head,
            '  a:',
            '    handler: src/handler.hello',
            '    events:',
            '      - alb:',
            ...event,
          ),
        )
      ).join('\n');
    const ok = [`          listenerArn: ${listener}`, '          priority: 2'];
    assert.match(
      await one(
        '          listenerArn: arn:aws:sqs:us-east-1:1:q',
        '          priority: 2',
        '          conditions: {path: /a}',
      ),
      /serverless\.yml:9:\d+ .*alb\.listenerArn: arn:aws:sqs:us-east-1:1:q is not an ALB listener ARN/,
    );
    assert.match(
      await one(
        `          listenerArn: ${listener}`,
        '          priority: 0',
        '          conditions: {path: /a}',
      ),
      /alb\.priority: must be an integer from 1 to 50000/,
    );
    assert.match(
      await one(...ok, '          conditions: {method: [get]}'),
      /alb\.conditions\.method: "get" is not a method/,
    );
    assert.match(
      await one(...ok, '          conditions: {path: /a, colour: red}'),
      /alb\.conditions\.colour: is not an ALB condition/,
    );
    assert.match(
      await one(...ok, '          conditions: {header: {name: X-A}}'),
      /alb\.conditions\.header: must be \{name: <header name>, values/,
    );
    assert.match(
      await one(...ok, '          conditions: {path: nope}'),
      /alb\.conditions\.path: "nope" must start with "\/"/,
    );
  });

  it('refuses an alb authorizer (the rule would be served without sign-in)', async () => {
    const problems = await refusal(
      yml(
        ...head,
        '  a:',
        '    handler: src/handler.hello',
        '    events:',
        '      - alb:',
        `          listenerArn: ${listener}`,
        '          priority: 2',
        '          conditions: {path: /a}',
        '          authorizer: myCognito',
      ),
    );
    assert.match(problems.join('\n'), /alb\.authorizer: ALB authenticate actions/);
  });
});
