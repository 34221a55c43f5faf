// Bundles the CLI with esbuild into dist/cli/: main.cjs, the whole CLI in one CommonJS file, and
// launch.js, the launcher bin/nimbus.js imports (src/cli/launch/). One file means one read and no
// module resolution; CommonJS because Node 20 can hand V8's code cache back only to a vm.Script,
// which the launcher keeps per command (src/cli/launch/code-cache.ts): compiling is most of a
// command's start-up otherwise. A lazily imported command's code still runs only when imported.
// Commands that find files next to their own module at run time (the runtime bootstraps:
// server, dev, invoke local) stay on tsc's output in dist/src, imported from the bundle.
import { rm } from 'node:fs/promises';
import { sep } from 'node:path';
import { build } from 'esbuild';

const unbundled = /\/commands\/(server|dev|invoke-local)\.js$/;

await rm('dist/cli', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/cli/launch/run-bundle.ts'],
  outfile: 'dist/cli/launch.js',
  format: 'esm',
});

await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.cjs',
  format: 'cjs',
  supported: { 'dynamic-import': false },
  // Pure-JS dependencies are bundled too (zod and yaml alone are hundreds of files); native
  // modules and esbuild (a binary) cannot be.
  external: ['better-sqlite3', 'pg', 'esbuild', 'pino', 'kysely', '@node-rs/argon2'],
  // The few modules that find files next to themselves (package.json, templates) ask
  // import.meta.url, which CommonJS has not: the bundle's own URL stands in.
  define: { 'import.meta.url': '__nimbusBundleUrl' },
  banner: { js: "const __nimbusBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [
    {
      // zod's namespace export (`z`) keeps every locale alive (~360 KB of the bundle); Nimbus
      // uses none of them (zod sets English itself, from locales/en), so English only.
      name: 'zod-english-only',
      setup(b) {
        b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
          args.importer.includes(`${sep}zod${sep}`)
            ? { path: 'zod-locales', namespace: 'zod-english-only' }
            : undefined,
        );
        b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, () => ({
          contents: "export { default as en } from 'zod/v4/locales/en.js';",
          resolveDir: process.cwd(),
        }));
      },
    },
    {
      // These stay ES modules on tsc's output. A vm.Script's import() loses its loader once
      // it runs from cached code, so the bundle has no import() at all (node: modules are
      // required); the launcher hands it an importer instead (src/cli/launch/run-bundle.ts).
      name: 'keep-file-relative-commands',
      setup(b) {
        b.onResolve({ filter: unbundled }, (args) => ({
          path: args.path.match(unbundled)[1],
          namespace: 'unbundled-command',
        }));
        b.onLoad({ filter: /.*/, namespace: 'unbundled-command' }, (args) => {
          const name = `${args.path.replace(/-(\w)/g, (_, c) => c.toUpperCase())}Command`;
          return {
            contents:
              `export const ${name} = async (...args) =>\n` +
              `  (await __nimbusImport('../src/cli/commands/${args.path}.js')).${name}(...args);\n`,
          };
        });
      },
    },
  ],
});
