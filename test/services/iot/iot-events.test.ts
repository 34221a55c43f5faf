/**
 * IoT and log subscriptions end to end, on SQLite and PostgreSQL: MQTT publishes through the
 * embedded broker (mqtt.js, authenticated) and the data-plane Publish API (official SDK) reach
 * an `iot` rule's function with the selected document; a function's ERROR lines reach a
 * `cloudwatchLog` subscriber, decoded from awslogs.data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import mqtt from 'mqtt';
import {
  type AwsPlatform,
  awsPlatformVariants,
  deployService,
  startAwsPlatform,
} from '../../helpers/aws-platform.js';
import { fnDef, serviceDef } from '../../helpers/definitions.js';
import { waitForValue } from '../../helpers/wait-for.js';

export const sinkCode = `
export async function handler(event) { console.log('IOT ' + JSON.stringify(event)); }
`;
const noisyCode = `
export async function handler() {
  console.log('ERROR disk full');
  console.log('INFO all good');
  console.log('ERROR Exiting');
  console.log('ERROR again');
}
`;
const watcherCode = `
import { gunzipSync } from 'node:zlib';
export async function handler(event) {
  const data = JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString());
  console.log('SUB ' + JSON.stringify(data));
}
`;

export async function logLines(aws: AwsPlatform, fn: string, prefix: string): Promise<string[]> {
  const res = await fetch(`${aws.platform.url}/v1/functions/${fn}/logs?limit=1000`, {
    headers: { authorization: `Bearer ${aws.platform.adminToken}` },
  });
  const { events } = (await res.json()) as { events: { message: string }[] };
  return events
    .map((e) => e.message)
    .filter((m) => m.includes(prefix))
    .map((m) => m.slice(m.indexOf(prefix) + prefix.length).trim());
}

for (const variant of awsPlatformVariants) {
  describe(`iot and log subscriptions (${variant.name})`, () => {
    let aws: AwsPlatform;
    before(async () => {
      aws = await startAwsPlatform(variant, {
        runFunctions: true,
        label: 'iot',
        options: { mqtt: { port: 0 }, logSubscriptionPollMs: 100 },
      });
      await deployService(
        aws.platform,
        serviceDef([
          fnDef('sink', {
            handler: 'sink.handler',
            handlerFile: 'sink.mjs',
            events: [
              {
                kind: 'iot',
                config: {
                  sql: "SELECT temp, topic(2) AS device, state.on AS on, clientid() AS client FROM 'sensors/+/data' WHERE temp > 30",
                },
              },
              {
                kind: 'iot',
                config: { sql: "SELECT encode(*, 'base64') AS raw FROM 'bin/#'" },
              },
              {
                kind: 'iot',
                config: { sql: "SELECT * FROM 'disabled/#'", enabled: false },
              },
            ],
          }),
          fnDef('noisy', { handler: 'noisy.handler', handlerFile: 'noisy.mjs' }),
          fnDef('watcher', {
            handler: 'watcher.handler',
            handlerFile: 'watcher.mjs',
            events: [
              {
                kind: 'cloudwatchLog',
                config: { logGroup: '/aws/lambda/svc-dev-noisy', filter: 'ERROR -Exiting' },
              },
            ],
          }),
        ]),
        { 'sink.mjs': sinkCode, 'noisy.mjs': noisyCode, 'watcher.mjs': watcherCode },
      );
    });
    after(async () => {
      await aws?.close();
    });

    test('an MQTT client needs credentials on the embedded broker', async () => {
      const url = aws.platform.mqtt!.url;
      await assert.rejects(
        mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000 }),
        /Not authorized|Bad username or password/i,
      );
      await assert.rejects(
        mqtt.connectAsync(url, {
          username: aws.key.id,
          password: 'wrong',
          reconnectPeriod: 0,
          connectTimeout: 5000,
        }),
        /Not authorized|Bad username or password/i,
      );
    });

    test('MQTT publishes reach the rule function with the selected document', async () => {
      const client = await mqtt.connectAsync(aws.platform.mqtt!.url, {
        username: aws.key.id,
        password: aws.key.secret,
        clientId: `device-${variant.name}`,
      });
      try {
        await client.publishAsync('sensors/d1/data', JSON.stringify({ temp: 20 }), { qos: 1 });
        await client.publishAsync('disabled/x', JSON.stringify({ temp: 99 }), { qos: 1 });
        await client.publishAsync(
          'sensors/d2/data',
          JSON.stringify({ temp: 35, state: { on: true }, extra: 1 }),
          { qos: 1 },
        );
        await client.publishAsync('bin/blob', Buffer.from([0, 1, 2, 250]), { qos: 1 });
      } finally {
        await client.endAsync();
      }
      const lines = await waitForValue(
        async () => {
          const l = await logLines(aws, 'svc-dev-sink', 'IOT ');
          return l.length >= 2 ? l : undefined;
        },
        'the iot rule invocations',
        30_000,
      );
      const docs = lines.map((l) => JSON.parse(l));
      assert.deepEqual(
        docs.find((d) => d.device),
        // clientid(): the embedded broker tells the rules who published.
        { temp: 35, device: 'd2', on: true, client: `device-${variant.name}` },
      );
      assert.deepEqual(
        docs.find((d) => d.raw),
        { raw: Buffer.from([0, 1, 2, 250]).toString('base64') },
      );
      assert.equal(docs.length, 2, 'temp 20 and the disabled rule invoke nothing');
    });

    test('the data-plane Publish API (SDK) publishes to the broker', async () => {
      const iot = new IoTDataPlaneClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      });
      try {
        await iot.send(
          new PublishCommand({
            topic: 'sensors/sdk/data',
            qos: 1,
            payload: Buffer.from(JSON.stringify({ temp: 40 })),
          }),
        );
        await waitForValue(
          async () => {
            const l = await logLines(aws, 'svc-dev-sink', 'IOT ');
            return l.find((x) => x.includes('"sdk"'));
          },
          'the Publish API message at the rule function',
          30_000,
        );
        await assert.rejects(
          iot.send(new PublishCommand({ topic: 'sensors/+/data', payload: Buffer.from('{}') })),
          (e: Error) => e.name === 'InvalidRequestException',
        );
        const anonymous = new IoTDataPlaneClient({
          endpoint: aws.platform.url,
          region: 'us-east-1',
          credentials: { accessKeyId: aws.key.id, secretAccessKey: 'not-the-secret' },
        });
        await assert.rejects(
          anonymous.send(new PublishCommand({ topic: 'a', payload: Buffer.from('{}') })),
          (e: Error) => e.name === 'UnauthorizedException',
        );
        anonymous.destroy();
      } finally {
        iot.destroy();
      }
    });

    test('a cloudwatchLog subscriber receives exactly the matching lines', async () => {
      const lambda = new LambdaClient({
        endpoint: aws.platform.url,
        region: 'us-east-1',
        credentials: { accessKeyId: aws.key.id, secretAccessKey: aws.key.secret },
      });
      try {
        const out = await lambda.send(new InvokeCommand({ FunctionName: 'svc-dev-noisy' }));
        assert.equal(out.FunctionError, undefined);
      } finally {
        lambda.destroy();
      }
      const messages = await waitForValue(
        async () => {
          const subs = (await logLines(aws, 'svc-dev-watcher', 'SUB ')).map((l) => JSON.parse(l));
          const events = subs.flatMap((s) =>
            s.logEvents.map((e: { message: string }) => e.message),
          );
          return events.length >= 2 ? { subs, events } : undefined;
        },
        'the log subscription delivery',
        30_000,
      );
      assert.equal(messages.events.length, 2);
      assert.ok(messages.events[0].includes('ERROR disk full'));
      assert.ok(messages.events[1].includes('ERROR again'));
      const first = messages.subs[0];
      assert.equal(first.messageType, 'DATA_MESSAGE');
      assert.equal(first.logGroup, '/aws/lambda/svc-dev-noisy');
      assert.equal(typeof first.logStream, 'string');
      assert.deepEqual(first.subscriptionFilters, ['svc-dev-watcher-cloudwatchLog-0']);
      assert.equal(typeof first.logEvents[0].id, 'string');
      assert.equal(typeof first.logEvents[0].timestamp, 'number');
      assert.ok(gunzipSync, 'decoded in the function with gzip');
    });
  });
}
