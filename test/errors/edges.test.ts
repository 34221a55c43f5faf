/** Each edge's one mapping: any NimbusError with a status gets through; anything else is a 500. */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { NimbusError } from '../../src/errors/nimbus-error.js';
import { clientErrorResponse } from '../../src/platform/gateway/gateway-response.js';
import { sendError } from '../../src/platform/http/send.js';
import { lambdaErrorOf } from '../../src/platform/lambda-api/lambda-error.js';
import { TooManyRequestsError } from '../../src/platform/pool/pool-errors.js';
import { StoreConflictError } from '../../src/store/errors.js';

// A domain error no edge knows by name: the edges must answer it from status and code alone.
class ScheduleClash extends NimbusError {
  constructor() {
    super('NIMBUS_SCHEDULE_BAD_CONFIG', 'schedule "nightly" of function "report" clashes');
  }
}

/** Just enough of a ServerResponse to see what sendError writes. */
function recorder() {
  const seen = { status: 0, headers: {} as Record<string, unknown>, body: '' };
  const res = {
    headersSent: false,
    writeHead(status: number, headers: Record<string, unknown>) {
      seen.status = status;
      seen.headers = headers;
    },
    end(text: string) {
      seen.body = text;
    },
  };
  return { res: res as unknown as ServerResponse, seen };
}

describe('edge mappings', () => {
  test('the catalogue gives a domain error its status; options may override it', () => {
    assert.equal(new ScheduleClash().status, 400);
    assert.equal(new StoreConflictError('taken').status, undefined);
    assert.equal(new NimbusError('NIMBUS_NOT_FOUND', 'x', { status: 410 }).status, 410);
    assert.equal(new ScheduleClash().name, 'ScheduleClash');
  });

  test('Invoke API: status kept, named by AWS type or status, Reason and headers carried', () => {
    const clash = lambdaErrorOf(new ScheduleClash());
    assert.equal(clash.status, 400);
    assert.equal(clash.type, 'InvalidParameterValueException');
    assert.deepEqual(clash.fields, { Type: 'User' });

    const throttled = lambdaErrorOf(
      new TooManyRequestsError('ConcurrentInvocationLimitExceeded', 2),
    );
    assert.equal(throttled.status, 429);
    assert.equal(throttled.type, 'TooManyRequestsException');
    assert.deepEqual(throttled.fields, {
      Type: 'User',
      Reason: 'ConcurrentInvocationLimitExceeded',
    });
    assert.equal(throttled.headers['retry-after'], '2');

    for (const hidden of [new Error('password=hunter2'), new StoreConflictError('hunter2')]) {
      const answer = lambdaErrorOf(hidden);
      assert.equal(answer.status, 500);
      assert.equal(answer.type, 'ServiceException');
      assert.ok(!answer.message.includes('hunter2'));
    }
  });

  test("gateway: client errors in API Gateway's words, the rest left to the internal answer", () => {
    const clash = clientErrorResponse(new ScheduleClash())!;
    assert.equal(clash.statusCode, 400);
    assert.equal(clash.body.toString(), '{"message":"Bad Request"}');

    const throttled = clientErrorResponse(
      new TooManyRequestsError('ConcurrentInvocationLimitExceeded'),
    )!;
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.body.toString(), '{"message":"Too Many Requests"}');
    assert.deepEqual(throttled.headers, [
      ['content-type', 'application/json'],
      ['retry-after', '1'],
    ]);

    assert.equal(clientErrorResponse(new Error('boom')), undefined);
    assert.equal(clientErrorResponse(new StoreConflictError('taken')), undefined);
    assert.equal(
      clientErrorResponse(new NimbusError('NIMBUS_POOL_START_FAILED', 'spawn failed')),
      undefined,
    );
  });

  test('control API: Nimbus JSON from code and message; unknown errors are a logged 500', () => {
    const logged: unknown[] = [];
    const clash = recorder();
    sendError(clash.res, new ScheduleClash(), (e) => logged.push(e));
    assert.equal(clash.seen.status, 400);
    assert.deepEqual(JSON.parse(clash.seen.body), {
      error: {
        code: 'NIMBUS_SCHEDULE_BAD_CONFIG',
        message: 'schedule "nightly" of function "report" clashes',
      },
    });
    assert.equal(logged.length, 0);

    const hidden = recorder();
    sendError(hidden.res, new StoreConflictError('hunter2'), (e) => logged.push(e));
    assert.equal(hidden.seen.status, 500);
    assert.deepEqual(JSON.parse(hidden.seen.body), {
      error: { code: 'NIMBUS_INTERNAL', message: 'internal error' },
    });
    assert.equal(logged.length, 1);
  });
});
