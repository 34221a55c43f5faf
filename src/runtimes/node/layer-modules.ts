/**
 * Modules from a function's layers (docs/layers.md), as Lambda's Node runtimes find them in
 * /opt/nodejs/node<major>/node_modules and /opt/nodejs/node_modules: the platform puts those
 * directories of the function's merged layer tree on NODE_PATH. A prewarmed runtime booted
 * before it knew its function, so NODE_PATH is read again here (require), and an ESM resolve
 * hook tries the same directories for a bare specifier the function's own code cannot resolve
 * (`import` ignores NODE_PATH). The function's own node_modules always wins: layers are only
 * consulted once ordinary resolution failed, exactly as NODE_PATH comes last for require.
 */
import Module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deferEsmHook } from './esm-hooks.js';

const internals = Module as unknown as { _initPaths?: () => void };

export function installLayerModules(env: NodeJS.ProcessEnv): void {
  const dirs = (env.NODE_PATH ?? '').split(':').filter((d) => d !== '');
  if (dirs.length === 0 || env.NIMBUS_LAYERS_ROOT === undefined) return;
  internals._initPaths?.();
  // Resolution from a file directly in a node_modules directory looks in that directory.
  const parents = dirs.map((d) => pathToFileURL(join(d, 'nimbus-layer-anchor.js')).href);
  deferEsmHook('./layer-resolve-hook.js', import.meta.url, { parents });
}
