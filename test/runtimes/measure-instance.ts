/**
 * Not a test: a quick measurement of the instance layer's own overhead, run by hand after a build
 * (`node .build/runtimes/test/runtimes/measure-instance.js`, or from dist/). Prints the warm
 * round trip of a trivial handler and the prewarmed and cold first-invoke times.
 */
import { performance } from 'node:perf_hooks';
import type { FunctionTarget } from '../../src/model/invocation.js';
import {
  type Instance,
  startGenericRuntime,
  startInstance,
} from '../../src/platform/pool/instance.js';
import { fixture, makeTarget, makeTmpRoot, nobody, request } from './instance-helpers.js';

const quiet = () => {};

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(3);
  const mean = (samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(3);
  return `mean ${mean} ms, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (n=${samples.length})`;
}

async function warm(instance: Instance, n: number): Promise<number[]> {
  const payload = { hello: 'world' };
  for (let i = 0; i < 500; i++)
    await instance.invoke(request(payload, { deadlineMs: Date.now() + 10_000 }));
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const req = request(payload, { deadlineMs: Date.now() + 10_000 });
    const t0 = performance.now();
    await instance.invoke(req);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function prewarmed(family: 'nodejs' | 'python', target: FunctionTarget, tmpRoot: string) {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const generic = await startGenericRuntime(family, {
      tmpRoot,
      runAsUser: nobody,
      memorySize: target.memorySize,
    });
    const t0 = performance.now();
    const instance = await generic.specialize(target, { instanceId: `p${i}`, onLog: quiet });
    await instance.invoke(request({ hello: 'world' }, { deadlineMs: Date.now() + 10_000 }));
    samples.push(performance.now() - t0);
    await instance.stop();
  }
  return samples;
}

async function cold(target: FunctionTarget, tmpRoot: string) {
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const instance = await startInstance({
      target,
      instanceId: `c${i}`,
      tmpRoot,
      onLog: quiet,
      runAsUser: nobody,
    });
    await instance.invoke(request({ hello: 'world' }, { deadlineMs: Date.now() + 10_000 }));
    samples.push(performance.now() - t0);
    await instance.stop();
  }
  return samples;
}

const tmp = await makeTmpRoot();
try {
  const node = makeTarget('nodejs', fixture('node-cjs'), 'handler.echo', { timeout: 10 });
  const python = makeTarget('python', fixture('python'), 'handler.echo', { timeout: 10 });
  const shell = makeTarget('provided', fixture('provided-shell'), 'function.handler', {
    timeout: 10,
  });
  for (const [name, target, n] of [
    ['node', node, 5000],
    ['python', python, 5000],
    ['provided (sh+curl)', shell, 200],
  ] as const) {
    const instance = await startInstance({
      target,
      instanceId: 'w',
      tmpRoot: tmp.dir,
      onLog: quiet,
      runAsUser: nobody,
    });
    console.log(`${name} warm invoke round trip: ${stats(await warm(instance, n))}`);
    await instance.stop();
  }
  const trivialNode = makeTarget('nodejs', fixture('node-cjs'), 'sub/deep.handler', {
    timeout: 10,
  });
  const trivialPython = makeTarget('python', fixture('python'), 'pkg/mod.handler', { timeout: 10 });
  for (const [name, family, target] of [
    ['node, one-line module', 'nodejs', trivialNode],
    ['node, fixture module', 'nodejs', node],
    ['python, one-line module', 'python', trivialPython],
    ['python, fixture module (imports tempfile)', 'python', python],
  ] as const) {
    const samples = await prewarmed(family, target, tmp.dir);
    console.log(`prewarmed specialize + first invoke, ${name}: ${stats(samples)}`);
  }
  console.log(`node cold start + first invoke: ${stats(await cold(node, tmp.dir))}`);
  console.log(`python cold start + first invoke: ${stats(await cold(python, tmp.dir))}`);
} finally {
  await tmp.cleanup();
}
