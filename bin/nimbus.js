#!/usr/bin/env node
// Thin launcher so `bin` survives a rebuild: the compiled CLI lives in dist/. The esbuild
// bundle (dist/cli, scripts/bundle-cli.mjs) starts faster, from V8's code cache after its first
// run (src/cli/launch/); tsc's output is the fallback.
let run;
try {
  const { runBundle } = await import('../dist/cli/launch.js');
  const { fileURLToPath } = await import('node:url');
  const bundle = fileURLToPath(new URL('../dist/cli/main.cjs', import.meta.url));
  run = () => runBundle(bundle, process.argv);
} catch (error) {
  if (
    error?.code !== 'ERR_MODULE_NOT_FOUND' ||
    !String(error.message).includes('dist/cli/launch.js')
  ) {
    throw error;
  }
  const { main } = await import('../dist/src/cli/main.js');
  run = () => main(process.argv);
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
