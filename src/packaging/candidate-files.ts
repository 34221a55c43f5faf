import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { devOnlyPackageDirs } from './dev-dependencies.js';
import { isAlwaysExcludedFile, isAlwaysPrunedDir } from './select-files.js';
import { type WalkedFile, walkFiles } from './walk-files.js';

export interface CandidateFiles {
  /** Every file patterns may select: the walk minus what is always excluded. */
  files: WalkedFile[];
  /** Drops development-only packages; applied after patterns, so patterns cannot undo it. */
  isDevOnly: (file: WalkedFile) => boolean;
}

/**
 * Walks the service directory once for all zips of a run. Left out before patterns see them:
 * the always-excluded names, the config file and everything under outDir (when outDir is inside
 * the service, e.g. `.serverless` or `--package dist/pkg`).
 */
export async function collectCandidates(opts: {
  serviceDir: string;
  configPath: string;
  outDir: string;
  excludeDevDependencies: boolean;
}): Promise<CandidateFiles> {
  const { serviceDir } = opts;
  const realRoot = await realpath(serviceDir);
  const inService = (abs: string): string | undefined => {
    const rel = relative(serviceDir, abs);
    return rel === '' || rel.startsWith('..') || isAbsolute(rel)
      ? undefined
      : rel.split(sep).join('/');
  };
  const outRel = inService(opts.outDir);
  const configRel = inService(opts.configPath);
  const underOut = (path: string) =>
    outRel !== undefined && (path === outRel || path.startsWith(`${outRel}/`));

  const walked = await walkFiles(serviceDir, {
    pruneDir: (dir) => isAlwaysPrunedDir(dir) || underOut(dir),
  });
  const files = walked.filter(
    (f) => !isAlwaysExcludedFile(f.path) && f.path !== configRel && !underOut(f.path),
  );

  const devDirs = opts.excludeDevDependencies ? await devOnlyPackageDirs(serviceDir) : [];
  // Match by zip path and by real source, so node_modules/.bin links into a dev-only package
  // leave with it.
  const devPrefixes = devDirs.map((d) => `${d}/`);
  const devSources = devDirs.map((d) => join(realRoot, ...d.split('/')) + sep);
  const isDevOnly = (f: WalkedFile) =>
    devPrefixes.some((p) => f.path.startsWith(p)) || devSources.some((s) => f.source.startsWith(s));
  return { files, isDevOnly };
}
