import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { ServiceDefinition } from '../../src/model/service-definition.js';
import { callerKey, clientAddress, trustedProxies } from '../../src/platform/protection/callers.js';
import { memoryCounters, postgresCounters } from '../../src/platform/protection/counters.js';
import { Protection } from '../../src/platform/protection/protection.js';
import { RateLimitedError } from '../../src/platform/protection/protection-errors.js';
import { definitionProblem } from '../../src/service/definition-rules.js';
import { openPostgresDatabase } from '../../src/store/postgres.js';
import { fnDef, serviceDef } from '../helpers/definitions.js';
import { makeTestSchema } from '../helpers/postgres.js';

const logger = pino({ level: 'silent' });

function withNimbus(nimbus: unknown): ServiceDefinition {
  const def = serviceDef([fnDef('one'), fnDef('two')]);
  return { ...def, custom: { nimbus } };
}

describe('callers', () => {
  const proxies = trustedProxies('10.0.0.0/8, 127.0.0.1');

  test('X-Forwarded-For counts only behind a trusted proxy, read from the right', () => {
    assert.equal(
      clientAddress({ peer: '203.0.113.9', forwardedFor: '1.2.3.4' }, proxies),
      '203.0.113.9',
    );
    assert.equal(
      clientAddress(
        { peer: '127.0.0.1', forwardedFor: '6.6.6.6, 198.51.100.7, 10.1.2.3' },
        proxies,
      ),
      '198.51.100.7',
      'the forged left part is ignored; trusted hops are skipped',
    );
    assert.equal(
      clientAddress({ peer: '::ffff:127.0.0.1', forwardedFor: '198.51.100.8' }, proxies),
      '198.51.100.8',
    );
  });

  test('a caller without the limit identity is counted by address; secrets never appear', () => {
    assert.equal(callerKey('apiKey', { peer: '192.0.2.1' }, proxies), 'ip:192.0.2.1');
    const keyed = callerKey(
      'caller',
      { peer: '192.0.2.1', apiKey: 'secret-api-key-value' },
      proxies,
    );
    assert.match(keyed, /^key:/);
    assert.doesNotMatch(keyed, /secret/);
    assert.equal(callerKey('all', { peer: '192.0.2.1' }, proxies), '*');
  });

  test('bad --trusted-proxies entries are refused', () => {
    for (const bad of ['10.0.0.0/40', 'proxy.local', '1.2.3.4/x']) {
      assert.throws(() => trustedProxies(bad), { code: 'NIMBUS_PROTECTION_CONFIG' }, bad);
    }
  });
});

describe('custom.nimbus rules', () => {
  const limits = { maxConcurrency: 100 };
  const problemOf = (nimbus: unknown) => definitionProblem(withNimbus(nimbus), limits);

  test('valid settings pass', () => {
    assert.equal(
      problemOf({
        rateLimits: [
          { route: 'GET /a', rate: 10, burst: 5 },
          { function: 'one', quota: { limit: 5, period: 'day' } },
        ],
        breakers: { one: { errorRate: 20, window: '1m', cooldown: 5 } },
        fallbacks: { one: { function: 'two' }, two: { statusCode: 503, body: 'later' } },
        laterFeature: ['kept for other features'],
      }),
      undefined,
    );
  });

  test('each bad setting names its path', () => {
    const cases: [unknown, string][] = [
      [{ rateLimits: [{ rate: 'fast' }] }, 'custom.nimbus.rateLimits.0.rate'],
      [{ rateLimits: [{ per: 'everyone', rate: 1 }] }, 'custom.nimbus.rateLimits.0.per'],
      [{ rateLimits: [{ function: 'one' }] }, 'custom.nimbus.rateLimits.0'],
      [{ rateLimits: [{ function: 'nope', rate: 1 }] }, 'custom.nimbus.rateLimits.0.function'],
      [{ rateLimits: [{ route: '/no-method', rate: 1 }] }, 'custom.nimbus.rateLimits.0.route'],
      [{ breakers: { one: { errorRate: 0 } } }, 'custom.nimbus.breakers.one.errorRate'],
      [{ breakers: { one: { cooldown: 'soon' } } }, 'custom.nimbus.breakers.one.cooldown'],
      [{ breakers: { one: { typo: 1 } } }, 'custom.nimbus.breakers.one'],
      [{ fallbacks: { one: { function: 'one' } } }, 'custom.nimbus.fallbacks.one.function'],
      [{ fallbacks: { one: { statusCode: 99 } } }, 'custom.nimbus.fallbacks.one.statusCode'],
    ];
    for (const [nimbus, path] of cases) {
      const problem = problemOf(nimbus);
      assert.ok(problem, `refused: ${JSON.stringify(nimbus)}`);
      assert.equal(problem.path.join('.'), path, `${JSON.stringify(nimbus)}: ${problem.message}`);
    }
  });
});

describe('limits', () => {
  const target = { service: 'svc', stage: 'dev', functionKey: 'one', functionName: 'svc-dev-one' };

  test('an unchanged redeploy keeps the count; a changed rule starts afresh', async () => {
    const protection = new Protection({
      counters: memoryCounters,
      proxies: trustedProxies(''),
      logger,
    });
    const rules = { rateLimits: [{ function: 'one', per: 'all', rate: '2/hour' }] };
    protection.setStage('svc', 'dev', withNimbus(rules));
    await protection.admitInvoke(target.functionName, { peer: '192.0.2.1' });
    protection.setStage('svc', 'dev', withNimbus(rules));
    await protection.admitInvoke(target.functionName, { peer: '192.0.2.1' });
    await assert.rejects(
      protection.admitInvoke(target.functionName, { peer: '192.0.2.1' }),
      RateLimitedError,
    );
    protection.setStage(
      'svc',
      'dev',
      withNimbus({ rateLimits: [{ function: 'one', per: 'all', rate: '3/hour' }] }),
    );
    await protection.admitInvoke(target.functionName, { peer: '192.0.2.1' });
    protection.setStage('svc', 'dev', undefined);
    assert.equal(protection.protects(target.functionName), false);
  });

  test('gateway calls: route and function rules pick their targets; facts read only when counted apart', async () => {
    const protection = new Protection({
      counters: memoryCounters,
      proxies: trustedProxies(''),
      logger,
    });
    protection.setStage(
      'svc',
      'dev',
      withNimbus({
        rateLimits: [
          { route: '* /any', per: 'all', rate: '1/hour' },
          { function: 'two', per: 'ip', rate: '1/hour' },
        ],
      }),
    );
    const call = {
      invoke: async (name: string) => ({ statusCode: 200, name }),
      staticAnswer: () => ({ statusCode: 503, name: 'fallback' }),
      failed: () => false,
      throttled: () => false,
    };
    let factsRead = 0;
    const facts = () => {
      factsRead++;
      return { peer: '192.0.2.7' };
    };
    const anyRoute = { ...target, routeKey: 'ANY /any' };
    const otherRoute = { ...target, routeKey: 'GET /other' };
    // The same route object again and again, as the gateway passes it.
    assert.equal((await protection.run(anyRoute, facts, call)).statusCode, 200);
    await assert.rejects(protection.run(anyRoute, facts, call), RateLimitedError);
    assert.equal(factsRead, 0, 'a limit per: all never asks who calls');
    for (let i = 0; i < 3; i++) {
      assert.equal((await protection.run(otherRoute, facts, call)).statusCode, 200);
    }
    const two = { ...target, functionKey: 'two', functionName: 'svc-dev-two' };
    assert.equal((await protection.run(two, facts, call)).name, 'svc-dev-two');
    await assert.rejects(protection.run(two, facts, call), RateLimitedError);
    assert.equal(factsRead, 2, 'read once per call counted by address');
    // The Invoke API has no route: only the function rule applies to it.
    await protection.admitInvoke(target.functionName, { peer: '192.0.2.7' });
    await assert.rejects(
      protection.admitInvoke('svc-dev-two', { peer: '192.0.2.7' }),
      RateLimitedError,
    );
  });

  test('on PostgreSQL a limit holds across nodes sharing the store', async () => {
    const schema = await makeTestSchema();
    const db = await openPostgresDatabase({ url: schema.url, schema: schema.schema });
    try {
      const counters = await postgresCounters(db);
      const nodes = [1, 2].map(() => {
        const node = new Protection({ counters, proxies: trustedProxies(''), logger });
        node.setStage(
          'svc',
          'dev',
          withNimbus({ rateLimits: [{ function: 'one', per: 'ip', rate: '3/hour' }] }),
        );
        return node;
      });
      const facts = { peer: '192.0.2.50' };
      await nodes[0]!.admitInvoke(target.functionName, facts);
      await nodes[1]!.admitInvoke(target.functionName, facts);
      await nodes[0]!.admitInvoke(target.functionName, facts);
      await assert.rejects(
        nodes[1]!.admitInvoke(target.functionName, facts),
        (error: RateLimitedError) => {
          assert.equal(error.status, 429);
          assert.ok(Number(error.headers['retry-after']) > 0);
          return true;
        },
      );
      // Another caller has its own count.
      await nodes[1]!.admitInvoke(target.functionName, { peer: '192.0.2.51' });
      await counters.sweep();
    } finally {
      await db.destroy();
      await schema.drop();
    }
  });
});

describe('breakers', () => {
  const target = { service: 'svc', stage: 'dev', functionKey: 'one', functionName: 'svc-dev-one' };
  interface Answer {
    statusCode: number;
    fallback?: boolean;
  }
  /** A guarded call whose function answers the given statuses in turn (or throws them). */
  function calls(answers: (number | Error)[], delayMs = 0) {
    let invoked = 0;
    return {
      get invoked() {
        return invoked;
      },
      invoke: async (): Promise<Answer> => {
        const next = answers[invoked++] ?? 200;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (next instanceof Error) throw next;
        return { statusCode: next };
      },
      staticAnswer: (f: { statusCode: number }): Answer => ({
        statusCode: f.statusCode,
        fallback: true,
      }),
      failed: (r: Answer) => r.statusCode >= 500,
      throttled: () => false,
    };
  }
  function guarded(breaker: Record<string, unknown>) {
    const states: string[] = [];
    const protection = new Protection({
      counters: memoryCounters,
      proxies: trustedProxies(''),
      logger,
      events: { limited() {}, breaker: (_fn, state) => states.push(state) },
    });
    protection.setStage(
      'svc',
      'dev',
      withNimbus({
        breakers: { one: { window: '10s', cooldown: '1h', ...breaker } },
        fallbacks: { one: { statusCode: 503, body: 'resting' } },
      }),
    );
    return { protection, states };
  }
  const facts = { peer: '192.0.2.1' };

  test('failures past the rate open it; the function answers until then, the fallback after', async () => {
    const { protection, states } = guarded({ errorRate: 50, minimumRequests: 4 });
    const call = calls([200, 200, 200, 200, 500, 500, 500, 500, 500]);
    const seen: Answer[] = [];
    for (let i = 0; i < 10; i++) seen.push(await protection.run(target, facts, call));
    // Successes are counted too: the fifth failure of nine calls passes 50% and opens it.
    assert.deepEqual(
      seen.map((a) => a.statusCode),
      [200, 200, 200, 200, 500, 500, 500, 500, 500, 503],
    );
    assert.equal(seen[9]!.fallback, true);
    assert.equal(call.invoked, 9, 'the open breaker does not call the function');
    assert.deepEqual(states, ['open']);
    assert.deepEqual(protection.breakerStates(), [{ functionName: 'svc-dev-one', state: 'open' }]);
  });

  test('a call over the latency budget counts as failed', async () => {
    const { protection } = guarded({ errorRate: 50, minimumRequests: 1, latency: '1ms' });
    const call = calls([200], 20);
    assert.equal((await protection.run(target, facts, call)).statusCode, 200);
    assert.equal((await protection.run(target, facts, call)).fallback, true);
    assert.equal(call.invoked, 1);
  });

  test('a thrown error propagates and is not counted', async () => {
    const { protection, states } = guarded({ errorRate: 50, minimumRequests: 1 });
    const call = calls([new Error('boom'), new Error('boom'), new Error('boom')]);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(protection.run(target, facts, call), /boom/);
    }
    assert.equal((await protection.run(target, facts, call)).statusCode, 200);
    assert.deepEqual(states, []);
  });
});
