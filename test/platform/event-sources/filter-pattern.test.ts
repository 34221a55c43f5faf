import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type FilterPattern,
  parseFilterPattern,
  passesFilters,
} from '../../../src/platform/event-sources/filter-pattern.js';

function p(text: unknown): FilterPattern {
  const parsed = parseFilterPattern(JSON.stringify(text));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.pattern;
}
const passes = (pattern: unknown, view: unknown) => passesFilters([p(pattern)], view);

test('exact values, lists in the record, nesting', () => {
  assert.ok(passes({ body: { a: ['x', 'y'] } }, { body: { a: 'y' } }));
  assert.ok(!passes({ body: { a: ['x'] } }, { body: { a: 'z' } }));
  assert.ok(passes({ body: { a: ['x'] } }, { body: { a: ['z', 'x'] } }));
  assert.ok(passes({ body: { n: [5] } }, { body: { n: 5 } }));
  assert.ok(passes({ body: { v: [null] } }, { body: { v: null } }));
  assert.ok(!passes({ body: { a: { b: ['1'] } } }, { body: { a: 'str' } }));
});

test('prefix, suffix, equals-ignore-case, wildcard', () => {
  assert.ok(passes({ k: [{ prefix: 'ord' }] }, { k: 'order' }));
  assert.ok(passes({ k: [{ suffix: '.png' }] }, { k: 'a.png' }));
  assert.ok(passes({ k: [{ 'equals-ignore-case': 'ABC' }] }, { k: 'abc' }));
  assert.ok(passes({ k: [{ wildcard: 'a*c.*' }] }, { k: 'abbc.txt' }));
  assert.ok(!passes({ k: [{ wildcard: 'a*c' }] }, { k: 'abd' }));
});

test('anything-but, numeric, exists, $or', () => {
  assert.ok(passes({ k: [{ 'anything-but': ['a', 'b'] }] }, { k: 'c' }));
  assert.ok(!passes({ k: [{ 'anything-but': 'a' }] }, { k: 'a' }));
  assert.ok(passes({ k: [{ 'anything-but': { prefix: 'x' } }] }, { k: 'yz' }));
  assert.ok(passes({ n: [{ numeric: ['>=', 10, '<', 20] }] }, { n: 10 }));
  assert.ok(!passes({ n: [{ numeric: ['>=', 10, '<', 20] }] }, { n: 20 }));
  assert.ok(passes({ k: [{ exists: false }] }, {}));
  assert.ok(!passes({ k: [{ exists: true }] }, {}));
  assert.ok(passes({ k: [{ exists: true }] }, { k: 1 }));
  assert.ok(passes({ $or: [{ a: [1] }, { b: [2] }] }, { b: 2 }));
  assert.ok(!passes({ $or: [{ a: [1] }, { b: [2] }] }, { b: 3 }));
});

test('any of several patterns; none means everything passes', () => {
  assert.ok(passesFilters([], { anything: 1 }));
  assert.ok(passesFilters([p({ a: [1] }), p({ a: [2] })], { a: 2 }));
});

test('bad patterns are refused with a reason', () => {
  for (const bad of [
    'not json',
    '[1]',
    '{"a":"x"}',
    '{"a":[]}',
    '{"a":[{"nope":1}]}',
    '{"a":[{"numeric":["~",1]}]}',
  ]) {
    const parsed = parseFilterPattern(bad);
    assert.equal(parsed.ok, false, bad);
  }
});
