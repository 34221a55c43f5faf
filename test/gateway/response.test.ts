import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InvokeOutcome } from '../../src/model/invocation.js';
import { mapResponseV1 } from '../../src/platform/gateway/response-v1.js';
import { mapResponseV2 } from '../../src/platform/gateway/response-v2.js';

const ok = (value: unknown): InvokeOutcome => ({ status: 'ok', payload: JSON.stringify(value) });
const failed: InvokeOutcome = {
  status: 'error',
  error: { errorType: 'TypeError', errorMessage: 'x is undefined' },
};

describe('v1 response mapping', () => {
  it('maps statusCode, merges headers with multiValueHeaders winning, decodes base64', () => {
    const { response, problem } = mapResponseV1(
      ok({
        statusCode: 201,
        headers: {
          'Content-Type': 'image/png',
          'X-One': 'single',
          'x-both': 'from headers',
          'X-Num': 5,
        },
        multiValueHeaders: { 'X-Both': ['m1', 'm2'], 'Set-Cookie': ['a=1', 'b=2'] },
        body: Buffer.from([1, 2, 3]).toString('base64'),
        isBase64Encoded: true,
      }),
    );
    assert.equal(problem, undefined);
    assert.equal(response.statusCode, 201);
    assert.deepEqual(response.headers, [
      ['Content-Type', 'image/png'],
      ['X-One', 'single'],
      ['X-Num', '5'],
      ['X-Both', 'm1'],
      ['X-Both', 'm2'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
    assert.deepEqual([...response.body], [1, 2, 3]);
  });

  it('defaults content-type to application/json and an absent body to empty', () => {
    const { response } = mapResponseV1(ok({ statusCode: 204 }));
    assert.deepEqual(response, {
      statusCode: 204,
      headers: [['content-type', 'application/json']],
      body: Buffer.alloc(0),
    });
    assert.equal(mapResponseV1(ok({ statusCode: 200, body: 'hé' })).response.body.toString(), 'hé');
  });

  const malformed: [string, InvokeOutcome, RegExp][] = [
    ['missing statusCode', ok({ body: 'x' }), /statusCode is missing/],
    ['string statusCode', ok({ statusCode: '200' }), /statusCode must be an integer/],
    [
      'body not a string',
      ok({ statusCode: 200, body: { a: 1 } }),
      /body must be a string, got object/,
    ],
    ['unexpected field', ok({ statusCode: 200, cookies: ['a=1'] }), /unexpected field "cookies"/],
    ['not an object', ok('hello'), /must be an object, got string/],
    ['null', ok(null), /must be an object, got null/],
    [
      'header value object',
      ok({ statusCode: 200, headers: { a: {} } }),
      /headers\.a must be a string/,
    ],
    [
      'multiValueHeaders not arrays',
      ok({ statusCode: 200, multiValueHeaders: { a: 'x' } }),
      /must be an array/,
    ],
    [
      'isBase64Encoded not boolean',
      ok({ statusCode: 200, body: '', isBase64Encoded: 'yes' }),
      /isBase64Encoded/,
    ],
    ['not JSON', { status: 'ok', payload: '{nope' }, /not JSON/],
  ];
  for (const [name, outcome, reason] of malformed) {
    it(`502 with a reason: ${name}`, () => {
      const { response, problem } = mapResponseV1(outcome);
      assert.equal(response.statusCode, 502);
      assert.equal(response.body.toString(), '{"message": "Internal server error"}');
      assert.equal(problem?.error, 'Malformed Lambda proxy response');
      assert.match(problem!.reason, reason);
    });
  }

  it('a function error is a 502 too', () => {
    const { response, problem } = mapResponseV1(failed);
    assert.equal(response.statusCode, 502);
    assert.equal(response.body.toString(), '{"message": "Internal server error"}');
    assert.deepEqual(problem, { error: 'Function error', reason: 'TypeError: x is undefined' });
  });
});

describe('v2 response mapping', () => {
  const inferred = (payload: string) => mapResponseV2({ status: 'ok', payload }).response;

  it('infers 200 JSON for an object without statusCode, sending the JSON text as returned', () => {
    assert.deepEqual(inferred('{"message": "hi", "n": 1}'), {
      statusCode: 200,
      headers: [['content-type', 'application/json']],
      body: Buffer.from('{"message": "hi", "n": 1}'),
    });
  });

  it('infers for a string (sent as the string itself), a number, an array, null', () => {
    assert.equal(inferred('"Hello from Lambda!"').body.toString(), 'Hello from Lambda!');
    assert.equal(inferred('42').body.toString(), '42');
    assert.equal(inferred('[1,2]').body.toString(), '[1,2]');
    assert.equal(inferred('null').body.toString(), 'null');
    assert.equal(inferred('true').statusCode, 200);
  });

  it('explicit response: headers, cookies as set-cookie, base64 body', () => {
    const { response, problem } = mapResponseV2(
      ok({
        statusCode: 302,
        headers: { location: '/next', 'x-n': 1 },
        cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
        body: Buffer.from('bin\0').toString('base64'),
        isBase64Encoded: true,
      }),
    );
    assert.equal(problem, undefined);
    assert.deepEqual(response, {
      statusCode: 302,
      headers: [
        ['location', '/next'],
        ['x-n', '1'],
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2; HttpOnly'],
      ],
      body: Buffer.from('bin\0'),
    });
  });

  it('explicit response without body or headers', () => {
    assert.deepEqual(mapResponseV2(ok({ statusCode: 204 })).response, {
      statusCode: 204,
      headers: [],
      body: Buffer.alloc(0),
    });
  });

  it('a malformed explicit response is a 500 with a reason', () => {
    for (const [value, reason] of [
      [{ statusCode: 'x' }, /statusCode/],
      [{ statusCode: 200, body: { a: 1 } }, /body must be a string/],
      [{ statusCode: 200, cookies: 'a=1' }, /cookies must be an array/],
    ] as const) {
      const { response, problem } = mapResponseV2(ok(value));
      assert.equal(response.statusCode, 500);
      assert.equal(response.body.toString(), '{"message":"Internal Server Error"}');
      assert.match(problem!.reason, reason);
    }
  });

  it('a function error is a 500 Internal Server Error', () => {
    const { response, problem } = mapResponseV2(failed);
    assert.equal(response.statusCode, 500);
    assert.equal(response.body.toString(), '{"message":"Internal Server Error"}');
    assert.deepEqual(problem, { error: 'Function error', reason: 'TypeError: x is undefined' });
  });
});
