#!/usr/bin/env node
// Thin launcher so `bin` survives a rebuild: the compiled CLI lives in dist/.
import { main } from '../dist/src/cli/main.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
