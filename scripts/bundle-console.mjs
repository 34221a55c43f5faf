// Builds the web console (src/console-ui, Preact) into dist/console: content-hashed assets that
// the platform serves as immutable under /console/assets/, and an index.html that names them.
// The UI is type-checked here against its own tsconfig (it needs the DOM; the platform does not).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const outdir = 'dist/console';
const budgetGzipBytes = 200 * 1024;

// A fresh directory: the server serves every file in it, and old hashes would pile up.
rmSync(outdir, { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/console-ui'], {
  stdio: 'inherit',
});

const result = await build({
  entryPoints: { app: 'src/console-ui/main.tsx', style: 'src/console-ui/console.css' },
  outdir: `${outdir}/assets`,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  write: true,
  logLevel: 'warning',
  legalComments: 'none',
});

const outputs = Object.keys(result.metafile.outputs);
const script = outputs.find((f) => /\/app-[^/]+\.js$/.test(f));
const style = outputs.find((f) => /\/style-[^/]+\.css$/.test(f));
if (!script || !style)
  throw new Error(`console build wrote no app or style: ${outputs.join(', ')}`);

let gzipped = 0;
for (const file of outputs.filter((f) => f.endsWith('.js'))) {
  gzipped += gzipSync(readFileSync(file)).length;
}
if (gzipped > budgetGzipBytes) {
  throw new Error(`console JS is ${gzipped} bytes gzipped, over the ${budgetGzipBytes} budget`);
}

mkdirSync(outdir, { recursive: true });
// Relative URLs: the page lives at /console/, its assets under /console/assets/.
writeFileSync(
  `${outdir}/index.html`,
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nimbus console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${basename(style)}">
<script type="module" src="assets/${basename(script)}"></script>
</head>
<body>
<div id="app"><p class="muted">Nimbus console: loading…</p></div>
</body>
</html>
`,
);
