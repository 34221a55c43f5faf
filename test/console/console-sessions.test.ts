import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsoleSessions, sameSecret } from '../../src/platform/console/console-sessions.js';

test('a session expires after its time to live and is forgotten', () => {
  let now = 1_000;
  const sessions = new ConsoleSessions({ clock: { now: () => now }, ttlMs: 100 });
  const s = sessions.create();
  assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(s.id, s.csrfToken);
  assert.equal(sessions.find(s.id), s);
  now += 99;
  assert.equal(sessions.find(s.id), s);
  now += 1;
  assert.equal(sessions.find(s.id), undefined);
  assert.equal(sessions.find(undefined), undefined);
  assert.equal(sessions.find(''), undefined);
});

test('past the cap the oldest sign-in goes; sign-out forgets one', () => {
  const sessions = new ConsoleSessions({ clock: { now: () => 0 }, maxSessions: 2 });
  const a = sessions.create();
  const b = sessions.create();
  const c = sessions.create();
  assert.equal(sessions.find(a.id), undefined);
  assert.equal(sessions.find(b.id), b);
  assert.equal(sessions.find(c.id), c);
  sessions.delete(b.id);
  assert.equal(sessions.find(b.id), undefined);
});

test('secrets compare whole, never a prefix or an empty value', () => {
  assert.equal(sameSecret('abc', 'abc'), true);
  assert.equal(sameSecret('ab', 'abc'), false);
  assert.equal(sameSecret('abcd', 'abc'), false);
  assert.equal(sameSecret('', ''), false);
  assert.equal(sameSecret(undefined, 'abc'), false);
});
