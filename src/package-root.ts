import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed Nimbus package's root (where package.json and templates/ live), found by walking
 * up from this compiled file, so it works from dist/ or any other build directory.
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (
      existsSync(candidate) &&
      JSON.parse(readFileSync(candidate, 'utf8')).name === 'nimbus-platform'
    )
      return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('the nimbus package.json was not found above the CLI');
    dir = up;
  }
})();

export const packageVersion: string = JSON.parse(
  readFileSync(join(packageRoot, 'package.json'), 'utf8'),
).version;
