/**
 * The device pipeline of issue 15 end to end, on SQLite and PostgreSQL: a device publishes
 * over MQTT to the embedded broker → an `iot` rule invokes `ingest` → `ingest` puts the
 * reading into a Kinesis stream with @aws-sdk/client-kinesis as a function would on AWS →
 * `consume` (a `stream` event on that stream) sees every reading, in order, also across a
 * platform restart.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import {
  awsPlatformVariants,
  type RestartableAwsPlatform,
  restartableAwsPlatform,
} from '../../helpers/aws-platform.js';
import { sdkSkip } from '../../helpers/function-reach.js';
import { waitUntil } from '../../helpers/wait-for.js';

const handler = `
const fs = require('node:fs');
exports.ingest = async (event) => {
  const { KinesisClient, PutRecordsCommand } = require('@aws-sdk/client-kinesis');
  const client = new KinesisClient({});
  try {
    const out = await client.send(new PutRecordsCommand({
      StreamName: 'dp-readings',
      Records: [{ PartitionKey: event.device, Data: Buffer.from(JSON.stringify(event)) }],
    }));
    if (out.FailedRecordCount) throw new Error('PutRecords failed: ' + JSON.stringify(out));
  } finally {
    client.destroy();
  }
};
exports.consume = async (event) => {
  for (const r of event.Records) {
    fs.appendFileSync(process.env.OUT + '/consumed.jsonl',
      Buffer.from(r.kinesis.data, 'base64').toString('utf8') + '\\n');
  }
};
`;

for (const variant of awsPlatformVariants)
  describe(`the device pipeline on ${variant.name}`, { skip: sdkSkip }, () => {
    let aws: RestartableAwsPlatform;
    let outDir: string;

    const publish = async (readings: { device: string; seq: number }[]) => {
      // The embedded broker keeps no sessions across a restart: publish once the rule listens.
      await waitUntil(
        async () => aws.platform.mqtt!.subscribed().includes('devices/+/readings'),
        'the rule to subscribe',
        30_000,
      );
      const device = await mqtt.connectAsync(aws.platform.mqtt!.url, {
        username: aws.key.id,
        password: aws.key.secret,
        clientId: `dp-device-${variant.name}`,
      });
      try {
        // One after the other: the pipeline keeps their order per device.
        for (const r of readings) {
          await device.publishAsync(`devices/${r.device}/readings`, JSON.stringify(r), { qos: 1 });
          await waitUntil(
            async () => (await consumed()).some((c) => c.device === r.device && c.seq === r.seq),
            `reading ${r.device}/${r.seq} to reach the consumer`,
            30_000,
          );
        }
      } finally {
        await device.endAsync();
      }
    };
    const consumed = async () =>
      (await readFile(join(outDir, 'consumed.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { device: string; seq: number; client?: string });

    before(async () => {
      aws = await restartableAwsPlatform(variant, {
        label: 'device pipeline',
        options: { mqtt: { port: 0 } },
      });
      // Functions run as their stage's own uid: the output directory is theirs to write.
      outDir = join(aws.dir, 'out');
      await mkdir(outDir);
      await chmod(outDir, 0o777);
      await aws.deploy({
        'handler.js': handler,
        'serverless.yml': [
          'service: dp',
          'provider:',
          '  name: aws',
          '  runtime: nodejs20.x',
          '  environment:',
          `    OUT: ${outDir}`,
          'functions:',
          '  ingest:',
          '    handler: handler.ingest',
          '    events:',
          '      - iot:',
          `          sql: "SELECT *, topic(2) AS device, clientid() AS client FROM 'devices/+/readings' WHERE seq >= 0"`,
          '  consume:',
          '    handler: handler.consume',
          '    events:',
          '      - stream:',
          '          type: kinesis',
          '          arn: !GetAtt [Readings, Arn]',
          '          batchSize: 10',
          'resources:',
          '  Resources:',
          '    Readings:',
          '      Type: AWS::Kinesis::Stream',
          '      Properties: {Name: dp-readings, ShardCount: 2}',
          '',
        ].join('\n'),
      });
    });
    after(() => aws?.close());

    test('every reading reaches the consumer, in order per device, across a restart', async () => {
      const devices = ['d1', 'd2', 'd3'];
      const batch = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => from + i).flatMap((seq) =>
          devices.map((device) => ({ device, seq })),
        );
      await publish(batch(0, 4));
      await aws.restart();
      await publish(batch(4, 8));
      const all = await consumed();
      for (const d of devices) {
        const seqs = all.filter((c) => c.device === d).map((c) => c.seq);
        // At least once: a redelivery goes back only to what came before, never past a gap.
        assert.deepEqual([...new Set(seqs)], [0, 1, 2, 3, 4, 5, 6, 7], `readings of ${d}`);
        for (let i = 1; i < seqs.length; i++) {
          if (seqs[i]! < seqs[i - 1]!) assert.ok(seqs.slice(0, i).includes(seqs[i]!));
        }
      }
      // clientid() in the rule: the device's MQTT client id travelled with the reading.
      assert.ok(all.every((c) => c.client === `dp-device-${variant.name}`));
    });
  });
