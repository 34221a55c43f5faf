import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RuntimeFamily } from '../model/service-definition.js';

const NODE_EXTENSIONS = ['js', 'mjs', 'cjs', 'ts', 'mts', 'cts'];

export type HandlerFileResult = { ok: true; file: string } | { ok: false; message: string };

/**
 * Finds the source file a handler points at, relative to the service dir with forward
 * slashes: `src/handler.hello` → `src/handler.ts` (first extension found), `pkg/mod.main` →
 * `pkg/mod.py`, and an executable `bootstrap` for provided runtimes.
 */
export async function findHandlerFile(
  serviceDir: string,
  handler: string,
  family: RuntimeFamily,
): Promise<HandlerFileResult> {
  if (family === 'provided') {
    if (await isExecutableFile(join(serviceDir, 'bootstrap')))
      return { ok: true, file: 'bootstrap' };
    return {
      ok: false,
      message: 'provided runtimes need an executable "bootstrap" file in the service folder',
    };
  }
  const dot = handler.lastIndexOf('.');
  const base = handler.slice(0, dot).replaceAll('\\', '/');
  const candidates =
    family === 'nodejs' ? NODE_EXTENSIONS.map((e) => `${base}.${e}`) : [`${base}.py`];
  for (const file of candidates) {
    if (await isFile(join(serviceDir, file))) return { ok: true, file };
  }
  const shown = family === 'nodejs' ? `${base}.{${NODE_EXTENSIONS.join(',')}}` : `${base}.py`;
  return { ok: false, message: `handler file "${shown}" not found` };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  if (!(await isFile(path))) return false;
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
