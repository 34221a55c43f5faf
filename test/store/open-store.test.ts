import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openStore, parseStoreUrl } from '../../src/store/open-store.js';
import { makeTestSchema, testPgUrl } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const dataDir = '/var/lib/nimbus';

describe('parseStoreUrl', () => {
  it('reads the sqlite forms', () => {
    assert.deepEqual(parseStoreUrl('sqlite:', { dataDir }), {
      kind: 'sqlite',
      file: '/var/lib/nimbus/nimbus.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:/srv/state.db', { dataDir }), {
      kind: 'sqlite',
      file: '/srv/state.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:///srv/state.db', { dataDir }), {
      kind: 'sqlite',
      file: '/srv/state.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:sub/state.db', { dataDir }), {
      kind: 'sqlite',
      file: '/var/lib/nimbus/sub/state.db',
    });
  });

  it('reads the postgres forms, lifting ?schema= out of the URL', () => {
    assert.deepEqual(parseStoreUrl('postgres://u:p@db:5432/nimbus', { dataDir }), {
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/nimbus',
    });
    assert.deepEqual(
      parseStoreUrl('postgresql://u@db/nimbus?schema=tenant_a&sslmode=require', { dataDir }),
      { kind: 'postgres', url: 'postgresql://u@db/nimbus?sslmode=require', schema: 'tenant_a' },
    );
  });

  it('refuses anything else with NIMBUS_STORE_BAD_URL, never echoing credentials', () => {
    for (const url of [
      '',
      'sqlite',
      'mysql://root:s3cret@db/x',
      'sqlite://host/x.db',
      'x:s3cret',
    ]) {
      assert.throws(
        () => parseStoreUrl(url, { dataDir }),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'NIMBUS_STORE_BAD_URL', url);
          assert.match(err.message, /sqlite:|postgres/);
          assert.doesNotMatch(err.message, /s3cret/);
          return true;
        },
      );
    }
  });
});

describe('openStore', () => {
  it('opens <dataDir>/nimbus.db for sqlite:, creating the directory', async () => {
    const tmp = await makeTempDir();
    try {
      const dir = join(tmp.dir, 'data');
      const store = await openStore('sqlite:', { dataDir: dir });
      await store.close();
      assert.ok(existsSync(join(dir, 'nimbus.db')));
    } finally {
      await tmp.cleanup();
    }
  });

  it('rejects a bad URL', async () => {
    await assert.rejects(openStore('redis://localhost', { dataDir }), {
      code: 'NIMBUS_STORE_BAD_URL',
    });
  });

  it('opens postgres in the ?schema= schema, creating it when missing', async () => {
    const pgSchema = await makeTestSchema();
    // A schema name the helper made unique, but not the one it created: openStore must create it.
    const schema = `${pgSchema.schema}_x`;
    const admin = new pg.Client({ connectionString: testPgUrl });
    await admin.connect();
    try {
      const store = await openStore(`${testPgUrl}?schema=${schema}`, { dataDir });
      await store.transaction((tx) =>
        tx.upsertStage({ service: 's', stage: 'd', region: 'r', now: 'n' }),
      );
      await store.close();
      const tables = await admin.query(
        'select table_name from information_schema.tables where table_schema = $1 order by 1',
        [schema],
      );
      assert.deepEqual(
        tables.rows.map((r) => r.table_name),
        [
          'access_keys',
          'aliases',
          'api_key_usage',
          'api_keys',
          'async_invocations',
          'blob_chunks',
          'blobs',
          'cluster_leases',
          'cluster_nodes',
          'deployments',
          'dynamodb_index_items',
          'dynamodb_items',
          'dynamodb_stream_counters',
          'dynamodb_stream_records',
          'dynamodb_tables',
          'dynamodb_transaction_tokens',
          'events_buses',
          'events_rules',
          'events_targets',
          'function_uids',
          'function_versions',
          'functions',
          'kysely_migration',
          'kysely_migration_lock',
          'log_events',
          'metric_rollup_durations',
          'metric_rollups',
          's3_buckets',
          's3_objects',
          's3_parts',
          's3_uploads',
          'schedule_state',
          'sqs_dedup',
          'sqs_messages',
          'sqs_queues',
          'stages',
          'work_job_keys',
          'work_jobs',
        ],
      );
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
      await pgSchema.drop();
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await assert.rejects(openStore(`${testPgUrl}?schema=a%22%3Bdrop`, { dataDir }), {
      code: 'NIMBUS_STORE_BAD_SCHEMA',
    });
  });
});
