import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { otlpTracing, sampledTrace } from '../../src/platform/observe/tracing/otlp-tracing.js';
import {
  incomingTrace,
  newTraceId,
  parseTraceparent,
  parseXRay,
  toTraceparent,
  toXRay,
} from '../../src/platform/observe/tracing/trace-context.js';
import { type RunningPlatform, startPlatform } from '../../src/platform/server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { waitForValue } from '../helpers/wait-for.js';

const traceId = '5759e988bd862e3fe1be46a994272793';
const parent = '53995c3f42cd8ad8';

describe('trace context headers', () => {
  test('traceparent and X-Amzn-Trace-Id carry the same ids both ways', () => {
    const ctx = parseTraceparent(`00-${traceId}-${parent}-01`)!;
    assert.deepEqual(ctx, { traceId, parentId: parent, sampled: true });
    assert.equal(
      toXRay(ctx),
      `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${parent};Sampled=1`,
    );
    assert.deepEqual(parseXRay(toXRay(ctx)), ctx);
    assert.equal(toTraceparent(parseXRay(toXRay(ctx))!), `00-${traceId}-${parent}-01`);
  });

  test('malformed or all-zero headers are ignored, traceparent wins over X-Ray', () => {
    for (const bad of [
      '',
      'garbage',
      `ff-${traceId}-${parent}-01`,
      `00-${'0'.repeat(32)}-${parent}-01`,
    ]) {
      assert.equal(parseTraceparent(bad), undefined, bad);
    }
    assert.equal(parseXRay('Root=1-zz-zz'), undefined);
    const other = `Root=1-${'a'.repeat(8)}-${'b'.repeat(24)};Sampled=0`;
    assert.equal(incomingTrace(`00-${traceId}-${parent}-00`, other)?.traceId, traceId);
    assert.equal(incomingTrace(undefined, other)?.traceId, `${'a'.repeat(8)}${'b'.repeat(24)}`);
  });

  test('new trace ids start with the epoch seconds, as an X-Ray root must', () => {
    const id = newTraceId(1_700_000_000_000);
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(Number.parseInt(id.slice(0, 8), 16), 1_700_000_000);
  });
});

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

describe('traces from a request through the function, exported over OTLP', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let platform: RunningPlatform;
  let collector: Server;
  const spans: ExportedSpan[] = [];

  before(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          for (const rs of body.resourceSpans ?? []) {
            for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const port = (collector.address() as { port: number }).port;
    tmp = await makeTempDir();
    platform = await startPlatform({
      host: '127.0.0.1',
      port: 0,
      dataDir: join(tmp.dir, 'data'),
      logger: pino({ level: 'silent' }),
      otlpEndpoint: `http://127.0.0.1:${port}`,
    });
    const dir = join(tmp.dir, 'svc');
    await mkdir(dir);
    await writeFile(
      join(dir, 'serverless.yml'),
      'service: traced\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  fn:\n    handler: handler.fn\n    events:\n      - httpApi: GET /t\n',
    );
    await writeFile(
      join(dir, 'handler.js'),
      'exports.fn = async (event) => ({ statusCode: 200, body: JSON.stringify({ env: process.env._X_AMZN_TRACE_ID, header: event.headers && event.headers["x-amzn-trace-id"] }) });\n',
    );
    const env = { HOME: tmp.dir, NIMBUS_ENDPOINT: platform.url, NIMBUS_TOKEN: platform.adminToken };
    const res = await runCli(['deploy'], { cwd: dir, env });
    assert.equal(res.code, 0, res.stderr);
  });
  after(async () => {
    await platform?.close();
    collector?.close();
    await tmp?.cleanup();
  });

  test("the function sees the caller's trace; gateway, run and cold start spans join it", async () => {
    const res = await fetch(`${platform.url}/traced-dev/t`, {
      headers: { traceparent: `00-${traceId}-${parent}-01` },
    });
    const seen = (await res.json()) as { env: string; header: string };
    assert.match(
      seen.env,
      /^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/,
    );
    assert.match(seen.header, /^Root=1-5759e988-/);
    const ours = await waitForValue(() => {
      const found = spans.filter((s) => s.traceId === traceId);
      return found.length >= 3 ? found : undefined;
    }, 'three exported spans of the trace');
    const server = ours.find((s) => s.name === 'GET /t')!;
    const run = ours.find((s) => s.name === 'invoke traced-dev-fn')!;
    const cold = ours.find((s) => s.name === 'cold start')!;
    assert.ok(server && run && cold, JSON.stringify(ours.map((s) => s.name)));
    assert.equal(server.parentSpanId, parent);
    assert.equal(run.parentSpanId, server.spanId);
    assert.equal(cold.parentSpanId, run.spanId);
    // The function's Parent is the run span: a tracing SDK inside it continues the same tree.
    assert.ok(seen.env.includes(`Parent=${run.spanId}`));
  });

  test('an async hop keeps the trace: queue wait and run under the caller', async () => {
    const asyncTrace = 'aaaabbbbccccddddeeeeffff00001111';
    const res = await fetch(`${platform.url}/2015-03-31/functions/traced-dev-fn/invocations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${platform.adminToken}`,
        'x-amz-invocation-type': 'Event',
        'x-amzn-trace-id': `Root=1-aaaabbbb-ccccddddeeeeffff00001111;Parent=${parent};Sampled=1`,
      },
      body: '{}',
    });
    assert.equal(res.status, 202);
    const ours = await waitForValue(() => {
      const found = spans.filter((s) => s.traceId === asyncTrace);
      return found.some((s) => s.name === 'queue wait') &&
        found.some((s) => s.name.startsWith('invoke'))
        ? found
        : undefined;
    }, 'the async spans');
    const wait = ours.find((s) => s.name === 'queue wait')!;
    assert.equal(wait.parentSpanId, parent);
  });
});

describe('sampled export (--otlp-sample-ratio)', () => {
  test('the trace id alone decides, so every span of a trace goes the same way', async () => {
    assert.equal(sampledTrace(`${'a'.repeat(24)}00000001`, 0.5), true);
    assert.equal(sampledTrace(`${'a'.repeat(24)}ffffffff`, 0.5), false);
    assert.equal(sampledTrace(`${'a'.repeat(24)}ffffffff`, 1), true);
    const exported: ExportedSpan[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) exported.push(...ss.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const port = (collector.address() as { port: number }).port;
      const tracing = otlpTracing({
        endpoint: `http://127.0.0.1:${port}`,
        nodeName: 'n1',
        version: '0.0.0',
        sampleRatio: 0.5,
      });
      const kept = new Set<string>();
      const dropped = new Set<string>();
      for (let i = 0; i < 64; i++) {
        const root = tracing.start('GET /x', undefined, { kind: 'server' });
        const run = tracing.start('invoke fn', root.context);
        assert.equal(run.context.traceId, root.context.traceId);
        assert.equal(run.context.sampled, root.context.sampled);
        assert.equal(root.context.sampled, sampledTrace(root.context.traceId, 0.5));
        (root.context.sampled ? kept : dropped).add(root.context.traceId);
        run.end();
        root.end();
      }
      // An incoming trace is decided by its id too, whatever its caller's flag says.
      const incoming = tracing.start('GET /x', {
        traceId: `${'b'.repeat(24)}ffffffff`,
        parentId: parent,
        sampled: true,
      });
      assert.equal(incoming.context.sampled, false);
      incoming.end();
      assert.ok(kept.size > 0 && dropped.size > 0, `${kept.size} kept, ${dropped.size} dropped`);
      await tracing.stop();
      const traces = new Set(exported.map((s) => s.traceId));
      assert.deepEqual([...traces].sort(), [...kept].sort());
      assert.equal(exported.length, kept.size * 2);
    } finally {
      collector.close();
    }
  });
});
