import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateIotSql, IotSqlError, parseIotSql } from '../../../src/services/iot/iot-sql.js';
import { topicMatches } from '../../../src/services/iot/topic-filter.js';

function run(sql: string, topic: string, payload: unknown, clientId = 'dev-1') {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  return evaluateIotSql(parseIotSql(sql), {
    topic,
    payload: body,
    clientId,
    timestamp: 1700000000000,
  });
}

describe('topic filters', () => {
  test('+ is one level, # any number including none', () => {
    assert.equal(topicMatches('a/+/c', 'a/b/c'), true);
    assert.equal(topicMatches('a/+/c', 'a/b/x/c'), false);
    assert.equal(topicMatches('a/#', 'a'), true);
    assert.equal(topicMatches('a/#', 'a/b/c'), true);
    assert.equal(topicMatches('a/b', 'a/b/c'), false);
    assert.equal(topicMatches('#', '$aws/things'), false);
  });
});

describe('IoT SQL', () => {
  test('SELECT * returns the payload; WHERE filters', () => {
    assert.deepEqual(
      run("SELECT * FROM 'sensors/+/temp' WHERE temp > 30", 'sensors/a/temp', { temp: 31 }),
      { temp: 31 },
    );
    assert.equal(
      run("SELECT * FROM 'sensors/+/temp' WHERE temp > 30", 'sensors/a/temp', { temp: 20 }),
      undefined,
    );
    assert.equal(run("SELECT * FROM 'sensors/+/temp'", 'other/a/temp', { temp: 20 }), undefined);
  });

  test('fields, nested fields, AS, arithmetic and functions', () => {
    const doc = run(
      "SELECT state.reported.temp AS t, (state.reported.temp - 32) * 5 / 9 AS c, topic() AS topic, topic(2) AS device, clientid() AS client, timestamp() AS ts, id FROM 'things/#' WHERE state.reported.on = true AND NOT (id = 'x' OR id = 'y')",
      'things/dev42/state',
      { id: 'z', state: { reported: { temp: 212, on: true } } },
    );
    assert.deepEqual(doc, {
      t: 212,
      c: 100,
      topic: 'things/dev42/state',
      device: 'dev42',
      client: 'dev-1',
      ts: 1700000000000,
      id: 'z',
    });
  });

  test('missing fields are Undefined: left out, and comparisons with them are not true', () => {
    assert.deepEqual(run("SELECT a, b FROM 't'", 't', { a: 1 }), { a: 1 });
    assert.equal(run("SELECT * FROM 't' WHERE missing <> 3", 't', { a: 1 }), undefined);
    assert.deepEqual(run("SELECT * FROM 't' WHERE missing = 3 OR a = 1", 't', { a: 1 }), { a: 1 });
  });

  test("encode(*, 'base64') carries a non-JSON payload", () => {
    const raw = Buffer.from([0, 1, 2, 255]);
    assert.deepEqual(
      run("SELECT encode(*, 'base64') AS data, topic() AS topic FROM 'bin/#'", 'bin/x', raw),
      {
        data: raw.toString('base64'),
        topic: 'bin/x',
      },
    );
  });

  test('comparisons: strings, <>, !=, <=, >=', () => {
    assert.ok(
      run("SELECT * FROM 't' WHERE s = 'on' AND n >= 2 AND n <= 2 AND n <> 3 AND n != 4", 't', {
        s: 'on',
        n: 2,
      }),
    );
    assert.equal(run("SELECT * FROM 't' WHERE s = 'off'", 't', { s: 'on' }), undefined);
  });

  test('bad statements are refused with the reason', () => {
    for (const [sql, reason] of [
      ['', /empty/],
      ['SELECT * FROM sensors', /quoted topic filter/],
      ["SELECT * 'x'", /expected FROM/],
      ["SELECT * FROM 'a/#/b'", /last level/],
      ["SELECT * FROM 'a/b+'", /whole topic level/],
      ["SELECT nope() FROM 'a'", /unknown function/],
      ["SELECT encode(*, 'hex') AS x FROM 'a'", /base64/],
      ["SELECT a + 1 FROM 'a'", /AS/],
      ["SELECT * FROM 'a' WHERE", /ended/],
      ["SELECT * FROM 'a' WHERE x = 'oops", /unterminated/],
      ["SELECT * FROM 'a' extra", /unexpected text/],
    ] as const) {
      assert.throws(
        () => parseIotSql(sql),
        (e: unknown) => e instanceof IotSqlError && reason.test(e.message),
        sql,
      );
    }
  });
});
