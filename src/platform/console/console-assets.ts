import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One built file of the console, held in memory with its gzipped form. */
export interface ConsoleAsset {
  body: Buffer;
  gzipped: Buffer;
  contentType: string;
}

export interface ConsoleAssets {
  index: ConsoleAsset;
  /** Content-hashed files under /console/assets/, by file name. */
  files: Map<string, ConsoleAsset>;
}

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Reads the console that `npm run build` wrote (scripts/bundle-console.mjs) into memory once, at
 * start: a few files under 100 KB, served without touching the disk again. Undefined when the
 * console was not built (tsc alone): /console then says so instead of failing per request.
 */
export function loadConsoleAssets(dir: string): ConsoleAssets | undefined {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) return undefined;
  const files = new Map<string, ConsoleAsset>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = contentTypes[extname(name)];
      if (type) files.set(name, asset(readFileSync(join(assetsDir, name)), type));
    }
  }
  return { index: asset(readFileSync(indexFile), contentTypes['.html']!), files };
}

function asset(body: Buffer, contentType: string): ConsoleAsset {
  return { body, gzipped: gzipSync(body, { level: 9 }), contentType };
}
