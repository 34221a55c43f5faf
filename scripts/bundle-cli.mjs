// Bundles the CLI into dist/cli/ with esbuild: one file for main and one chunk per lazily
// imported command, so a command loads a handful of files instead of hundreds of modules
// (Node 20 has no compile cache; resolving and reading each module is most of the start-up).
// Commands that find files next to their own module at run time (the runtime bootstraps:
// server, dev, invoke local) stay on tsc's output in dist/src, imported from the bundle.
import { build } from 'esbuild';

const unbundled = /\/commands\/(server|dev|invoke-local)\.js$/;

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Pure-JS dependencies are bundled too (zod and yaml alone are hundreds of files); native
  // modules and esbuild (a binary) cannot be.
  external: ['better-sqlite3', 'pg', 'esbuild', 'pino', 'kysely', '@node-rs/argon2'],
  banner: {
    // Bundled CommonJS packages call require(); an ES module has none of its own.
    js: "import { createRequire as __nimbusCreateRequire } from 'node:module'; const require = __nimbusCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  plugins: [
    {
      name: 'keep-file-relative-commands',
      setup(b) {
        b.onResolve({ filter: unbundled }, (args) => ({
          path: `../src/cli/commands/${args.path.match(unbundled)[1]}.js`,
          external: true,
        }));
      },
    },
  ],
});
