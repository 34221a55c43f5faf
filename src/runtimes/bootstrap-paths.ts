/**
 * Where the bootstraps are at run time.
 *
 * Function processes run as an unprivileged user when the platform runs as root, and that user
 * may not be able to read the platform's own install (a checkout under a 0700 home or temp dir).
 * So on first use the bootstrap files are copied into a directory of their own, readable by
 * everyone, and the copies are what function processes start. The sources are found from this
 * compiled module's location:
 *
 * - Node: compiled with everything else, next to this file (`node/*.js`, `protocol.js`).
 * - Python: tsc does not copy .py files, so it is read from the source tree: `src/runtimes/python/
 *   bootstrap.py` under the first ancestor directory that holds package.json (the package root).
 *   A copy next to this module (`python/bootstrap.py`) wins if a build ever places one there.
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

let installed: { node: string; python: string } | undefined;

/** Paths of the readable bootstrap copies, made once per process. */
export function bootstrapFiles(): { node: string; python: string } {
  if (installed) return installed;
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bootstrap-'));
  mkdirSync(join(dir, 'node'));
  mkdirSync(join(dir, 'python'));
  // The copies are ES modules like the rest of the package; without this they would load as CommonJS.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  copyFileSync(join(here, 'protocol.js'), join(dir, 'protocol.js'));
  for (const name of readdirSync(join(here, 'node'))) {
    if (name.endsWith('.js')) copyFileSync(join(here, 'node', name), join(dir, 'node', name));
  }
  copyFileSync(pythonBootstrapSource(), join(dir, 'python', 'bootstrap.py'));
  makeReadable(dir);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  installed = {
    node: join(dir, 'node', 'bootstrap.js'),
    python: join(dir, 'python', 'bootstrap.py'),
  };
  return installed;
}

function makeReadable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeReadable(path);
    else chmodSync(path, 0o644);
  }
}

function pythonBootstrapSource(): string {
  const beside = join(here, 'python', 'bootstrap.py');
  if (existsSync(beside)) return beside;
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const candidate = join(dir, 'src', 'runtimes', 'python', 'bootstrap.py');
      if (existsSync(candidate)) return candidate;
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

/**
 * The node_modules directory holding the platform's `@aws-sdk/*` v3 clients, which Node functions
 * may import without bundling them (src/runtimes/node/aws-sdk-fallback.ts); undefined when the
 * install has none. Function processes read it in place: as root they run as an unprivileged
 * user, so the install must be readable by everyone (docs/runtimes.md).
 */
export function awsSdkModulesDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@aws-sdk/client-s3/package.json');
    // .../node_modules/@aws-sdk/client-s3/package.json -> .../node_modules
    return dirname(dirname(dirname(manifest)));
  } catch {
    return undefined;
  }
}
