/**
 * `--mqtt-url` mode against the Mosquitto on 127.0.0.1:1883 (.ci/run starts it): a message
 * published with QoS 1 while the platform is stopped reaches the rule's function after the
 * platform starts again (persistent session, stable client id per node).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import pino from 'pino';
import { type RunningPlatform, startPlatform } from '../../../src/platform/server.js';
import { deployService } from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { waitForValue } from '../../helpers/wait-for.js';

const brokerUrl = 'mqtt://127.0.0.1:1883';
const sink = `export async function handler(event) { console.log('IOT ' + JSON.stringify(event)); }`;

async function sinkLines(platform: RunningPlatform): Promise<string[]> {
  const res = await fetch(`${platform.url}/v1/functions/svc-dev-sink/logs?limit=1000`, {
    headers: { authorization: `Bearer ${platform.adminToken}` },
  });
  const { events } = (await res.json()) as { events: { message: string }[] };
  return events.map((e) => e.message).filter((m) => m.includes('IOT '));
}

describe('iot rules with an external broker (Mosquitto)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  // A topic of this run only: earlier runs' sessions on the shared broker see nothing of it.
  const run = randomUUID().slice(0, 8);
  const nodeName = `iot-test-${run}`;
  const start = () =>
    startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: tmp.dir,
      nodeName,
      logger: pino({ level: 'silent' }),
      mqtt: { url: brokerUrl },
    });

  before(async () => {
    tmp = await makeTempDir();
  });
  after(async () => {
    // The persistent session would otherwise stay on the broker: end it with a clean connect.
    const c = await mqtt.connectAsync(brokerUrl, {
      clientId: `nimbus-rules-${nodeName}`,
      clean: true,
    });
    await c.endAsync();
    await tmp.cleanup();
  });

  test('a QoS 1 message published while the platform is down is delivered after restart', async () => {
    let platform = await start();
    try {
      await deployService(
        platform,
        serviceDef([
          fnDef('sink', {
            handler: 'sink.handler',
            handlerFile: 'sink.mjs',
            events: [{ kind: 'iot', config: { sql: `SELECT * FROM 'runs/${run}/+'` } }],
          }),
        ]),
        { 'sink.mjs': sink },
      );
      const device = await mqtt.connectAsync(brokerUrl, { clientId: `device-${run}` });
      await device.publishAsync(`runs/${run}/a`, JSON.stringify({ n: 1 }), { qos: 1 });
      await waitForValue(
        async () => ((await sinkLines(platform)).length >= 1 ? true : undefined),
        'the first message',
        30_000,
      );

      await platform.close();
      await device.publishAsync(`runs/${run}/b`, JSON.stringify({ n: 2 }), { qos: 1 });
      await device.endAsync();

      platform = await start();
      const lines = await waitForValue(
        async () => {
          const l = await sinkLines(platform);
          return l.some((x) => x.includes('"n":2')) ? l : undefined;
        },
        'the message published while the platform was down',
        30_000,
      );
      assert.equal(lines.filter((x) => x.includes('"n":2')).length, 1);
    } finally {
      await platform.close();
    }
  });
});
