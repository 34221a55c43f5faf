import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config-error.js';
import type { ParsedConfig } from './parse-document.js';
import { SourceLocator } from './source-locator.js';

/** serverless.js / .cjs / .mjs / .ts: configuration built by code rather than written as text. */
export function isScriptConfig(configPath: string): boolean {
  return /\.(c|m)?js$|\.ts$/.test(configPath);
}

/**
 * Loads a JavaScript or TypeScript config as the Serverless Framework does: the module's default
 * export (or `module.exports`) is the configuration, or a promise of it, or a function returning
 * either. TypeScript is bundled by esbuild (types stripped, not checked) into a temporary ES
 * module first. The value is then treated as data: variables in its strings are resolved like
 * YAML's, and messages name the file and property path (there is no line to point to).
 */
export async function loadScriptConfig(configPath: string, file: string): Promise<ParsedConfig> {
  const compiled = configPath.endsWith('.ts')
    ? await compileTypeScript(configPath, file)
    : undefined;
  let exported: unknown;
  try {
    // A query makes `dev` see an edited config: Node caches ES modules by URL.
    const url = `${pathToFileURL(compiled?.path ?? configPath).href}?v=${Date.now()}`;
    const mod = (await import(url)) as { default?: unknown };
    exported = mod.default !== undefined ? mod.default : mod;
    if (typeof exported === 'function') exported = await (exported as () => unknown)();
    exported = await exported;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError({
      code: 'NIMBUS_CONFIG_READ',
      file,
      detail: `cannot load the config file: ${(error as Error)?.message ?? String(error)}`,
    });
  } finally {
    await compiled?.cleanup();
  }
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new ConfigError({
      code: 'NIMBUS_CONFIG_INVALID',
      file,
      detail: 'the config file must export an object (service, provider, functions, ...)',
    });
  }
  // Data only: functions, symbols and undefined are dropped as JSON drops them.
  const data = JSON.parse(JSON.stringify(exported)) as Record<string, unknown>;
  return { data, locator: SourceLocator.withoutPositions(file), warnings: [] };
}

async function compileTypeScript(
  configPath: string,
  file: string,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const { build } = await import('esbuild');
  let code: Uint8Array;
  try {
    const result = await build({
      entryPoints: [configPath],
      bundle: true,
      write: false,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      logLevel: 'silent',
      // Bundled CommonJS packages call require() for builtins; ESM has none of its own.
      banner: {
        js: "import { createRequire as __nimbusRequire } from 'node:module'; const require = __nimbusRequire(import.meta.url);",
      },
    });
    code = result.outputFiles[0]!.contents;
  } catch (error) {
    const first = (
      error as { errors?: { text: string; location: { line: number; column: number } | null }[] }
    ).errors?.[0];
    throw new ConfigError({
      code: 'NIMBUS_CONFIG_READ',
      file,
      ...(first?.location ? { line: first.location.line, column: first.location.column + 1 } : {}),
      detail: `cannot compile the config file: ${first?.text ?? (error as Error).message}`,
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'nimbus-config-'));
  const path = join(dir, 'serverless.mjs');
  await writeFile(path, code);
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
