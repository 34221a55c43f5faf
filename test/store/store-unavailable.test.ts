import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { describePostgresUrl } from '../../src/store/postgres-target.js';
import { closedPort } from '../helpers/closed-port.js';
import { testPgUrl } from '../helpers/postgres.js';

const dataDir = '/unused';

async function failure(url: string): Promise<StoreUnavailableError> {
  try {
    const store = await openStore(url, { dataDir });
    await store.close();
  } catch (error) {
    assert.ok(error instanceof StoreUnavailableError, String(error));
    assert.equal(error.code, 'NIMBUS_STORE_UNAVAILABLE');
    return error;
  }
  assert.fail(`expected ${url} to fail`);
}

describe('a PostgreSQL store that cannot be opened says what failed and where', () => {
  it('nothing listening: the host, port and the fix, never the password', async () => {
    const port = await closedPort();
    const error = await failure(`postgres://nimbus:s3cret@127.0.0.1:${port}/app?schema=tenant`);
    assert.equal(
      error.message,
      `cannot open the PostgreSQL store at postgres://nimbus@127.0.0.1:${port}/app (schema tenant): ` +
        `connect ECONNREFUSED 127.0.0.1:${port}; is PostgreSQL running and listening on that host and port?`,
    );
    assert.ok(!error.message.includes('s3cret'));
  });

  it('a database that does not exist', async () => {
    const url = new URL(testPgUrl);
    url.pathname = '/nimbus_no_such_db';
    const error = await failure(url.toString());
    assert.match(
      error.message,
      /database "nimbus_no_such_db" does not exist; create the database first/,
    );
  });

  it('describes URLs without secrets or parameters', () => {
    assert.equal(
      describePostgresUrl('postgresql://u:p@db.lan/x?sslmode=require'),
      'postgres://u@db.lan:5432/x (schema public)',
    );
    assert.equal(describePostgresUrl('nonsense'), 'a postgres:// URL');
  });
});
