import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type CliPlatform, startCliPlatform } from '../helpers/cli-platform.js';
import { sdkSkip } from '../helpers/function-reach.js';
import { repoRoot } from '../helpers/repo-root.js';
import { runCli } from '../helpers/run-cli.js';

interface Todo {
  id: string;
  text: string;
  checked: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * The shipped to-do API, as written for AWS: its table comes from `resources`, its functions use
 * the SDK v3 DocumentClient the runtime provides, and nothing in it names Nimbus.
 */
describe('examples/todo-api end to end', { skip: sdkSkip }, () => {
  let p: CliPlatform;
  let serviceDir: string;
  let base: string;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  before(async () => {
    p = await startCliPlatform();
    serviceDir = join(p.root, 'todo-api');
    await cp(join(repoRoot, 'examples', 'todo-api'), serviceDir, { recursive: true });
    const deployed = await runCli(['deploy'], { cwd: serviceDir, env: p.env });
    assert.equal(deployed.code, 0, deployed.stderr);
    base = `${p.platform.url}/todo-api-dev`;
  });
  after(() => p?.close());

  test('create, list, get, update and delete to-dos', async () => {
    const made: Todo[] = [];
    for (const text of ['buy milk', 'write docs']) {
      const res = await call('POST', '/todos', { text });
      assert.equal(res.status, 201);
      made.push((await res.json()) as Todo);
    }
    assert.equal(made[0]!.checked, false);

    const listed = (await (await call('GET', '/todos')).json()) as Todo[];
    assert.deepEqual(
      listed.map((t) => t.text),
      ['buy milk', 'write docs'],
    );

    const one = await call('GET', `/todos/${made[0]!.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), made[0]);

    const updated = await call('PUT', `/todos/${made[0]!.id}`, {
      text: 'buy oat milk',
      checked: true,
    });
    assert.equal(updated.status, 200);
    const after = (await updated.json()) as Todo;
    assert.equal(after.text, 'buy oat milk');
    assert.equal(after.checked, true);
    assert.equal(after.createdAt, made[0]!.createdAt);

    assert.equal((await call('DELETE', `/todos/${made[1]!.id}`)).status, 204);
    assert.equal((await call('GET', `/todos/${made[1]!.id}`)).status, 404);
    const left = (await (await call('GET', '/todos')).json()) as Todo[];
    assert.deepEqual(
      left.map((t) => t.id),
      [made[0]!.id],
    );
  });

  test('bad input: no text, malformed JSON, unknown to-do', async () => {
    assert.equal((await call('POST', '/todos', {})).status, 400);
    assert.equal((await call('POST', '/todos', '{not json')).status, 400);
    assert.equal((await call('PUT', '/todos/nope', { text: 'x', checked: false })).status, 404);
    assert.equal((await call('GET', '/todos/nope')).status, 404);
  });

  test('the table is the one serverless.yml declared, and remove drops it', async () => {
    const ddb = new DynamoDBClient({
      endpoint: p.platform.url,
      region: 'us-east-1',
      credentials: await accessKey(p),
    });
    const table = await ddb.send(new DescribeTableCommand({ TableName: 'todo-api-dev-todos' }));
    assert.deepEqual(table.Table?.KeySchema, [{ AttributeName: 'id', KeyType: 'HASH' }]);
    const removed = await runCli(['remove'], { cwd: serviceDir, env: p.env });
    assert.equal(removed.code, 0, removed.stderr);
    await assert.rejects(
      ddb.send(new DescribeTableCommand({ TableName: 'todo-api-dev-todos' })),
      (err: Error) => err.name === 'ResourceNotFoundException',
    );
    ddb.destroy();
  });
});

async function accessKey(
  p: CliPlatform,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const res = await fetch(`${p.platform.url}/v1/keys`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${p.platform.adminToken}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ description: 'todo-api test' }),
  });
  const { key } = (await res.json()) as { key: { id: string; secret: string } };
  return { accessKeyId: key.id, secretAccessKey: key.secret };
}
