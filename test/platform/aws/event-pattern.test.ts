/** The shared event pattern language (SNS filter policies, EventBridge rules) as a unit. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  InvalidPatternError,
  matches,
  parsePattern,
  validatePattern,
} from '../../../src/platform/aws/patterns/event-pattern.js';

const check = (pattern: unknown, document: unknown) => matches(validatePattern(pattern), document);

describe('event patterns', () => {
  test('exact values, arrays in the document, nesting', () => {
    assert.equal(check({ source: ['shop'] }, { source: 'shop' }), true);
    assert.equal(check({ source: ['shop'] }, { source: 'other' }), false);
    assert.equal(check({ source: ['shop'] }, {}), false);
    assert.equal(check({ tags: ['a'] }, { tags: ['b', 'a'] }), true);
    assert.equal(check({ detail: { n: [5] } }, { detail: { n: 5 } }), true);
    assert.equal(check({ detail: { n: [5] } }, { detail: { n: '5' } }), false);
    assert.equal(check({ d: { ok: [true] } }, { d: { ok: true } }), true);
    assert.equal(check({ d: [null] }, { d: null }), true);
    assert.equal(check({ d: [null] }, {}), false);
    assert.equal(check({ items: { sku: ['x'] } }, { items: [{ sku: 'y' }, { sku: 'x' }] }), true);
    assert.equal(check({ a: ['1'], b: ['2'] }, { a: '1', b: '3' }), false);
  });

  test('prefix, suffix, equals-ignore-case, wildcard', () => {
    assert.equal(check({ k: [{ prefix: 'ord' }] }, { k: 'order' }), true);
    assert.equal(check({ k: [{ prefix: 'ord' }] }, { k: 'border' }), false);
    assert.equal(check({ k: [{ prefix: { 'equals-ignore-case': 'ORD' } }] }, { k: 'order' }), true);
    assert.equal(check({ k: [{ suffix: '.png' }] }, { k: 'a.png' }), true);
    assert.equal(check({ k: [{ suffix: '.png' }] }, { k: 'a.jpg' }), false);
    assert.equal(check({ k: [{ 'equals-ignore-case': 'Red' }] }, { k: 'rED' }), true);
    assert.equal(check({ k: [{ wildcard: 'a*/c*' }] }, { k: 'ab/cd' }), true);
    assert.equal(check({ k: [{ wildcard: 'a*/c*' }] }, { k: 'ab/d' }), false);
    assert.equal(check({ k: [{ wildcard: 'a\\*b' }] }, { k: 'a*b' }), true);
    assert.equal(check({ k: [{ wildcard: 'a\\*b' }] }, { k: 'axb' }), false);
    assert.equal(check({ k: [{ wildcard: 'a.c' }] }, { k: 'abc' }), false);
  });

  test('anything-but, numeric, exists, cidr', () => {
    assert.equal(check({ k: [{ 'anything-but': 'x' }] }, { k: 'y' }), true);
    assert.equal(check({ k: [{ 'anything-but': 'x' }] }, { k: 'x' }), false);
    assert.equal(check({ k: [{ 'anything-but': 'x' }] }, {}), false);
    assert.equal(check({ k: [{ 'anything-but': ['x', 'y'] }] }, { k: 'y' }), false);
    assert.equal(check({ k: [{ 'anything-but': [1, 2] }] }, { k: 3 }), true);
    assert.equal(check({ k: [{ 'anything-but': { prefix: 'tmp' } }] }, { k: 'tmpx' }), false);
    assert.equal(check({ k: [{ 'anything-but': { prefix: 'tmp' } }] }, { k: 'real' }), true);
    assert.equal(check({ k: [{ 'anything-but': { suffix: ['.a', '.b'] } }] }, { k: 'f.b' }), false);
    assert.equal(check({ k: [{ numeric: ['>', 0, '<=', 5] }] }, { k: 5 }), true);
    assert.equal(check({ k: [{ numeric: ['>', 0, '<=', 5] }] }, { k: 0 }), false);
    assert.equal(check({ k: [{ numeric: ['=', 3.5] }] }, { k: 3.5 }), true);
    assert.equal(check({ k: [{ numeric: ['>=', 10] }] }, { k: '11' }), false);
    assert.equal(check({ k: [{ exists: true }] }, { k: 'v' }), true);
    assert.equal(check({ k: [{ exists: true }] }, {}), false);
    assert.equal(check({ k: [{ exists: false }] }, {}), true);
    assert.equal(check({ k: [{ exists: false }] }, { k: 1 }), false);
    assert.equal(check({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.77' }), true);
    assert.equal(check({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.77' }), false);
  });

  test('$or alternatives combine with the other keys', () => {
    const p = { source: ['shop'], $or: [{ a: [1] }, { b: [{ exists: true }] }] };
    assert.equal(check(p, { source: 'shop', a: 1 }), true);
    assert.equal(check(p, { source: 'shop', b: 'x' }), true);
    assert.equal(check(p, { source: 'shop', a: 2 }), false);
    assert.equal(check(p, { source: 'bank', a: 1 }), false);
  });

  test('invalid patterns name what is wrong', () => {
    const bad = (pattern: unknown, fragment: RegExp) =>
      assert.throws(
        () => validatePattern(pattern),
        (e: unknown) => e instanceof InvalidPatternError && fragment.test((e as Error).message),
      );
    bad([], /must be a JSON object/);
    bad({}, /empty/);
    bad({ a: 'x' }, /a must be a JSON object/);
    bad({ a: [] }, /a must not be an empty array/);
    bad({ a: [{ prefix: 1 }] }, /prefix takes/);
    bad({ a: [{ numeric: ['>', 'x'] }] }, /numeric/);
    bad({ a: [{ numeric: ['<', 5, '>', 1] }] }, /range/);
    bad({ a: [{ nope: 1 }] }, /unknown operator nope/);
    bad({ a: [{ prefix: 'x', suffix: 'y' }] }, /exactly one operator/);
    bad({ $or: [{ a: [1] }] }, /\$or must be an array of at least two/);
    bad({ a: [{ exists: 'yes' }] }, /exists takes/);
    bad({ a: [{ wildcard: 'a**' }] }, /consecutive/);
    bad({ a: [{ cidr: '300.0.0.1/8' }] }, /cidr/);
    assert.throws(() => parsePattern('{nope'), InvalidPatternError);
    assert.throws(
      () => validatePattern({ a: Array.from({ length: 20 }, (_, i) => i) }, { maxValues: 10 }),
      /too many values/,
    );
  });
});
