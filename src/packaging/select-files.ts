import picomatch from 'picomatch';

/**
 * Files that never go into an artifact, whatever the patterns say. Serverless lists the same
 * names; here the per-file ones (.gitignore, .DS_Store, logs, .git) apply at any depth because
 * they are never runtime code, while .serverless and .serverless_plugins are the root folders.
 * `.nimbus/` is where `nimbus dev` keeps its embedded platform's data (store, blobs, tokens):
 * never code, and never to be shipped.
 */
export const alwaysExcludedPatterns: readonly string[] = [
  '**/.git/**',
  '**/.gitignore',
  '**/.DS_Store',
  '**/npm-debug.log*',
  '**/yarn-*.log',
  '.serverless/**',
  '.serverless_plugins/**',
  '.nimbus/**',
];

/** Directories the walk need not enter: everything in them is excluded above. */
export function isAlwaysPrunedDir(relDir: string): boolean {
  return (
    relDir === '.serverless' ||
    relDir === '.serverless_plugins' ||
    relDir === '.nimbus' ||
    relDir === '.git' ||
    relDir.endsWith('/.git')
  );
}

const isAlwaysExcluded = picomatch([...alwaysExcludedPatterns], { dot: true });

export function isAlwaysExcludedFile(path: string): boolean {
  return isAlwaysExcluded(path);
}

/** `./src/**` and `src/**` mean the same to users; picomatch only matches the second. */
function normalizePattern(pattern: string): string {
  return pattern.replace(/^(\.\/)+/, '');
}

/**
 * Applies Serverless `package.patterns` in order to `paths` (already stripped of the always
 * excluded files). Everything starts selected; `!glob` removes matching paths from the current
 * selection; `glob` adds matching paths back from `paths`. Globs match dotfiles.
 */
export function applyPatterns(paths: readonly string[], patterns: readonly string[]): string[] {
  const selected = new Set(paths);
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const glob = normalizePattern(negated ? raw.slice(1) : raw);
    if (glob === '') continue;
    const matches = picomatch(glob, { dot: true });
    if (negated) {
      for (const path of selected) if (matches(path)) selected.delete(path);
    } else {
      for (const path of paths) if (matches(path)) selected.add(path);
    }
  }
  return paths.filter((p) => selected.has(p));
}
