import { join } from 'node:path';
import type { Message } from 'esbuild';
import { PackagingError } from './errors.js';

const typeScriptExtension = /\.(c|m)?ts$/;

/** `src/handler.ts` (or .mts/.cts) is bundled; anything else ships as it is. */
export function isTypeScriptHandler(handlerFile: string): boolean {
  return typeScriptExtension.test(handlerFile) && !handlerFile.endsWith('.d.ts');
}

/** Where the bundle goes in the zip: `src/handler.ts` -> `src/handler.mjs`. */
export function bundleOutputPath(handlerFile: string): string {
  return handlerFile.replace(/\\/g, '/').replace(typeScriptExtension, '.mjs');
}

/** Globs that drop TypeScript sources from a zip whose handlers were bundled. */
export const typeScriptSourcePatterns: readonly string[] = ['!**/*.ts', '!**/*.mts', '!**/*.cts'];

/**
 * esbuild's ESM output has no `require`; bundled CommonJS packages call it for builtins
 * (`require('fs')`). esbuild renames any user-level `require` binding, so this one is free.
 */
const requireBanner =
  "import { createRequire as __nimbusCreateRequire } from 'node:module';\n" +
  'const require = __nimbusCreateRequire(import.meta.url);';

/**
 * Bundles one TypeScript handler into a single ESM file for Node 20, with an inline source map
 * (one file to ship; stack traces map back with --enable-source-maps). esbuild strips types
 * without checking them: type errors are tsc's job, syntax and resolution errors stop here.
 * The output is deterministic: same sources, same esbuild version, same bytes; source map paths
 * are relative to the output file, never absolute.
 */
export async function bundleTypeScript(
  serviceDir: string,
  handlerFile: string,
  functionKeys: readonly string[],
): Promise<Buffer> {
  const outPath = bundleOutputPath(handlerFile);
  // Loaded here, not at the top: a JavaScript-only service (and every no-op deploy) never pays
  // for loading esbuild.
  const { build } = await import('esbuild');
  try {
    const result = await build({
      absWorkingDir: serviceDir,
      entryPoints: [join(serviceDir, handlerFile)],
      outfile: join(serviceDir, outPath),
      write: false,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      sourcemap: 'inline',
      banner: { js: requireBanner },
      logLevel: 'silent',
    });
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error('esbuild produced no output');
    return Buffer.from(file.contents);
  } catch (err) {
    const errors: Message[] = (err as { errors?: Message[] }).errors ?? [];
    const detail =
      errors.length > 0
        ? errors.map(formatMessage).join('\n')
        : err instanceof Error
          ? err.message
          : String(err);
    throw new PackagingError(
      'NIMBUS_PACKAGING_BUNDLE_FAILED',
      `cannot bundle ${handlerFile} for ${functionKeys.length > 1 ? 'functions' : 'function'} ${functionKeys.map((k) => `"${k}"`).join(', ')}:\n${detail}`,
      { cause: err },
    );
  }
}

/** `src/handler.ts:3:14: Expected ";" but found "x"`, the form editors make clickable. */
function formatMessage(message: Message): string {
  const where = message.location;
  if (where === null) return message.text;
  return `${where.file}:${where.line}:${where.column + 1}: ${message.text}`;
}
