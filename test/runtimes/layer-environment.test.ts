/**
 * The search paths a function with layers starts with (docs/layers.md#at-run-time): where
 * Lambda's runtimes look in /opt, pointed at the merged layer tree; nothing for a function
 * without layers; the function's own environment may still set them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FunctionTarget } from '../../src/model/invocation.js';
import { functionEnvironment } from '../../src/platform/pool/instance-env.js';

const target = (over: Partial<FunctionTarget>): FunctionTarget => ({
  functionName: 'svc-dev-fn',
  version: '1',
  runtime: 'nodejs20.x',
  runtimeFamily: 'nodejs',
  handler: 'index.handler',
  memorySize: 128,
  timeout: 3,
  environment: {},
  region: 'us-east-1',
  codeDir: '/code/abc',
  ...over,
});
const env = (t: FunctionTarget) =>
  functionEnvironment({
    target: t,
    tmpDir: '/tmp/i',
    runtimeDir: '/rt',
    logStreamName: 's',
    initializationType: 'on-demand',
  });

describe('layer search paths', () => {
  it('Node: node<major> before nodejs, bin last on PATH, code lib before layer lib', () => {
    const e = env(target({ layersDir: '/code/layers-x' }));
    assert.equal(e.NIMBUS_LAYERS_ROOT, '/code/layers-x');
    assert.equal(
      e.NODE_PATH,
      '/code/layers-x/nodejs/node20/node_modules:/code/layers-x/nodejs/node_modules',
    );
    assert.ok(e.PATH!.endsWith(':/code/layers-x/bin'));
    assert.equal(e.LD_LIBRARY_PATH, '/code/abc/lib:/code/layers-x/lib');
    assert.equal(e.PYTHONPATH, undefined);
  });

  it('Python: the runtime site-packages before python/', () => {
    const e = env(target({ runtime: 'python3.12', runtimeFamily: 'python', layersDir: '/code/l' }));
    assert.equal(e.PYTHONPATH, '/code/l/python/lib/python3.12/site-packages:/code/l/python');
    assert.equal(e.NODE_PATH, undefined);
  });

  it('nothing without layers, and the function may set its own', () => {
    const plain = env(target({}));
    for (const key of ['NIMBUS_LAYERS_ROOT', 'NODE_PATH', 'PYTHONPATH', 'LD_LIBRARY_PATH']) {
      assert.equal(plain[key], undefined, key);
    }
    const own = env(target({ layersDir: '/code/l', environment: { NODE_PATH: '/mine' } }));
    assert.equal(own.NODE_PATH, '/mine');
    // The root itself is the platform's to say.
    const forced = env(
      target({ layersDir: '/code/l', environment: { NIMBUS_LAYERS_ROOT: '/elsewhere' } }),
    );
    assert.equal(forced.NIMBUS_LAYERS_ROOT, '/code/l');
  });
});
