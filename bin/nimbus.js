#!/usr/bin/env node
// Thin launcher so `bin` survives a rebuild: the compiled CLI lives in dist/. The esbuild
// bundle (dist/cli, scripts/bundle-cli.mjs) starts faster; tsc's output is the fallback.
let main;
try {
  ({ main } = await import('../dist/cli/main.js'));
} catch (error) {
  if (
    error?.code !== 'ERR_MODULE_NOT_FOUND' ||
    !String(error.message).includes('dist/cli/main.js')
  ) {
    throw error;
  }
  ({ main } = await import('../dist/src/cli/main.js'));
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
