/**
 * Where the bootstraps are at run time, found from this compiled module's own location so the
 * same code works from dist/ and from any scratch outDir:
 *
 * - Node: compiled with everything else, so it sits next to this file, at `node/bootstrap.js`.
 * - Python: tsc does not copy .py files, so it is read from the source tree: `src/runtimes/python/
 *   bootstrap.py` under the first ancestor directory that holds package.json (the package root).
 *   A copy next to this module (`python/bootstrap.py`) wins if a build ever places one there.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const nodeBootstrapPath: string = join(here, 'node', 'bootstrap.js');

let pythonPath: string | undefined;

export function pythonBootstrapPath(): string {
  if (pythonPath) return pythonPath;
  const beside = join(here, 'python', 'bootstrap.py');
  if (existsSync(beside)) {
    pythonPath = beside;
    return beside;
  }
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const candidate = join(dir, 'src', 'runtimes', 'python', 'bootstrap.py');
      if (existsSync(candidate)) {
        pythonPath = candidate;
        return candidate;
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(
    `python bootstrap not found: looked beside ${here} and for src/runtimes/python/bootstrap.py ` +
      'under each ancestor holding package.json',
  );
}
