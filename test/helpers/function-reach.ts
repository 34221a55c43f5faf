import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './repo-root.js';

/**
 * As root, function processes run as uids of their own and import the AWS SDK v3 from the
 * platform's node_modules (docs/runtimes.md): that needs every directory above it to be
 * traversable by others. A checkout under a private (0700) directory is not, so suites whose
 * functions use the SDK cannot run there.
 */
export function functionsReachCheckout(): boolean {
  if (process.getuid?.() !== 0) return true;
  let dir = join(repoRoot, 'node_modules');
  for (;;) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    const up = dirname(dir);
    if (up === dir) return true;
    dir = up;
  }
}

export const sdkSkip = functionsReachCheckout()
  ? false
  : 'the checkout lies under a directory function uids cannot enter';
