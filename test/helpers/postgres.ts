import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The local PostgreSQL the tests use; CI starts it (.ci/run). Override with NIMBUS_TEST_PG. */
export const testPgUrl: string =
  process.env.NIMBUS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A schema of its own for one test run, so parallel runs never see each other's rows.
 * drop() removes it with everything in it.
 */
export async function makeTestSchema(): Promise<{
  url: string;
  schema: string;
  drop: () => Promise<void>;
}> {
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: testPgUrl });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  return {
    url: testPgUrl,
    schema,
    drop: async () => {
      const c = new pg.Client({ connectionString: testPgUrl });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
