/**
 * The launcher of the bundled CLI (dist/cli/main.cjs, scripts/bundle-cli.mjs): compiles the
 * bundle with V8's code cache (code-cache.ts) and runs its `main`. bin/nimbus.js imports this.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { cacheDirectory, codeCache, commandKey } from './code-cache.js';

type Main = (argv: string[]) => Promise<number>;

export async function runBundle(bundleFile: string, argv: string[]): Promise<number> {
  const dir = cacheDirectory(process.env);
  const cache = dir ? codeCache(dir, bundleFile, commandKey(argv.slice(2))) : undefined;
  const cachedData = cache?.read();
  // CommonJS's own wrapper (exports, require, module, __filename, __dirname), and an importer for
  // the commands left as ES modules: the bundle's own import() would fail from cached code.
  const source = `(function (exports, require, module, __filename, __dirname, __nimbusImport) {${readFileSync(bundleFile, 'utf8')}\n})`;
  const script = new Script(source, {
    filename: bundleFile,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} as { main: Main } };
  const init = script.runInThisContext() as (...args: unknown[]) => void;
  init.call(
    module.exports,
    module.exports,
    createRequire(bundleFile),
    module,
    bundleFile,
    dirname(bundleFile),
    (specifier: string) => import(new URL(specifier, pathToFileURL(bundleFile)).href),
  );
  const code = await module.exports.main(argv);
  // After the command ran, so the cache holds the functions it compiled lazily as well.
  if (cache && (cachedData === undefined || script.cachedDataRejected)) {
    cache.write(script.createCachedData());
  }
  return code;
}
