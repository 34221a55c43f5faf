/**
 * Two platforms of one cluster (one PostgreSQL schema) on one Mosquitto (127.0.0.1:1883,
 * .ci/run starts it): both subscribe to the rule's topic as members of one MQTT shared
 * subscription (`$share/<group>/<filter>`), so every message invokes the rule's function once
 * across the nodes, not once per node.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { deployService } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { makeTestSchema } from '../../helpers/postgres.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { waitUntil } from '../../helpers/wait-for.js';

const brokerUrl = 'mqtt://127.0.0.1:1883';
const sink = `
import { appendFileSync } from 'node:fs';
export async function handler(event) {
  appendFileSync(process.env.OUT + '/seen.jsonl', JSON.stringify(event) + '\\n');
}`;

describe('iot rules on two nodes sharing one Mosquitto', () => {
  const run = randomUUID().slice(0, 8);
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let pg: Awaited<ReturnType<typeof makeTestSchema>>;
  const nodes: RunningPlatform[] = [];

  before(async () => {
    tmp = await makeTempDir();
    await chmod(tmp.dir, 0o777);
    pg = await makeTestSchema();
    for (const n of ['a', 'b']) {
      nodes.push(
        await startPlatform({
          host: '127.0.0.1',
          port: 0,
          dataDir: join(tmp.dir, n),
          databaseUrl: `${pg.url}?schema=${pg.schema}`,
          nodeName: `iot-share-${run}-${n}`,
          logger: pino({ level: process.env.AWS_TEST_LOG ?? 'silent' }),
          mqtt: { url: brokerUrl },
        }),
      );
    }
  });
  after(async () => {
    for (const p of nodes) await p.close();
    // End the nodes' persistent sessions on the shared broker.
    for (const n of ['a', 'b']) {
      const c = await mqtt.connectAsync(brokerUrl, {
        clientId: `nimbus-rules-iot-share-${run}-${n}`,
        clean: true,
      });
      await c.endAsync();
    }
    await pg?.drop();
    await tmp?.cleanup();
  });

  test('each message invokes the rule once across both nodes', async () => {
    const filter = `share/${run}/+`;
    await deployService(
      nodes[0]!,
      serviceDef([
        fnDef('sink', {
          handler: 'sink.handler',
          handlerFile: 'sink.mjs',
          environment: { OUT: tmp.dir },
          events: [{ kind: 'iot', config: { sql: `SELECT *, topic(3) AS n FROM '${filter}'` } }],
        }),
      ]),
      { 'sink.mjs': sink },
    );
    // Both nodes have the rule (the second learns the deploy from the Store's change feed).
    await waitUntil(
      async () => nodes.every((p) => p.mqtt!.subscribed().includes(filter)),
      'both nodes to subscribe to the rule topic',
      30_000,
    );
    const device = await mqtt.connectAsync(brokerUrl, { clientId: `device-${run}` });
    const count = 20;
    try {
      for (let i = 0; i < count; i++) {
        await device.publishAsync(`share/${run}/m${i}`, JSON.stringify({ i }), { qos: 1 });
      }
      // A last message after the others: once it is in, any second copy would have been too.
      await device.publishAsync(`share/${run}/last`, JSON.stringify({ i: count }), { qos: 1 });
    } finally {
      await device.endAsync();
    }
    const seen = async () =>
      (await readFile(join(tmp.dir, 'seen.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { n: string }).n);
    await waitUntil(
      async () => new Set(await seen()).size === count + 1,
      'every message to invoke the function',
      60_000,
    );
    const all = await seen();
    assert.equal(all.length, count + 1, `each message once: ${all.sort().join(' ')}`);
  });
});
