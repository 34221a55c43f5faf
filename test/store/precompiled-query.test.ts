import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { precompile } from '../../src/store/precompiled-query.js';
import { compileOnlyKysely } from '../helpers/compile-only-kysely.js';

interface Tables {
  items: { table_name: string; pk: Buffer; sk: Buffer; item: string };
}

// Compile-only handles: precompile builds and compiles without a database.
const pg = compileOnlyKysely<Tables>('postgres');
const lite = compileOnlyKysely<Tables>('sqlite');

type Args = { table: string; pk: Buffer; limit: number };

describe('precompile', () => {
  for (const [dialect, db] of [
    ['sqlite', lite],
    ['postgres', pg],
  ] as const) {
    it(`binds each call's values where the builder used them (${dialect})`, () => {
      const q = precompile(['table', 'pk', 'limit'], (a: Args) =>
        db
          .selectFrom('items')
          .select('item')
          .where('table_name', '=', a.table)
          .where('pk', '=', a.pk)
          .where('sk', '>', Buffer.from('fixed'))
          .limit(a.limit),
      );
      const pk = Buffer.from([1, 2]);
      const bound = q.bind({ table: "t'; drop table items", pk, limit: 5 });
      const direct = db
        .selectFrom('items')
        .select('item')
        .where('table_name', '=', "t'; drop table items")
        .where('pk', '=', pk)
        .where('sk', '>', Buffer.from('fixed'))
        .limit(5)
        .compile();
      // The same SQL text as building it per call, and the same values in the same order.
      assert.equal(bound.sql, direct.sql);
      assert.deepEqual(bound.parameters, direct.parameters);
      // Values never reach the text.
      assert.doesNotMatch(bound.sql, /drop table/);
    });
  }

  it('binds an argument used twice in both places', () => {
    const q = precompile(['item'], (a: { item: string }) =>
      lite
        .insertInto('items')
        .values({ table_name: 't', pk: Buffer.alloc(0), sk: Buffer.alloc(0), item: a.item })
        .onConflict((oc) => oc.column('table_name').doUpdateSet({ item: a.item })),
    );
    const { parameters } = q.bind({ item: 'x' });
    assert.equal(parameters.filter((p) => p === 'x').length, 2);
  });

  it('keeps every value of a call apart from the next call', () => {
    const q = precompile(['table'], (a: { table: string }) =>
      lite.selectFrom('items').select('item').where('table_name', '=', a.table),
    );
    const first = q.bind({ table: 'a' });
    const second = q.bind({ table: 'b' });
    assert.deepEqual(first.parameters, ['a']);
    assert.deepEqual(second.parameters, ['b']);
  });
});
