import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Finds the top-level node_modules packages that only development needs, so the artifact can
 * leave them out (Serverless does this with `npm ls --dev/--prod`; reading package.json files
 * directly is faster, needs no npm, and gives the same answer for a hoisted install).
 *
 * Production closure: package.json `dependencies`, `optionalDependencies` and
 * `peerDependencies`, then each installed package's own `dependencies`, `optionalDependencies`
 * and `peerDependencies`, resolved the way Node resolves them (nearest node_modules upward).
 * Development closure: the same walk from `devDependencies`. Returned: service-relative dirs
 * (`node_modules/typescript`, `node_modules/@types/node`) in the development closure but not
 * in the production one. A package needed by both stays. Missing packages are ignored.
 */
export async function devOnlyPackageDirs(serviceDir: string): Promise<string[]> {
  const manifests = new Map<string, PackageManifest | undefined>();
  const read = async (dir: string) => {
    if (!manifests.has(dir)) manifests.set(dir, await readManifest(dir));
    return manifests.get(dir);
  };
  const root = await read(serviceDir);
  if (root === undefined) return [];

  const closure = async (names: string[]): Promise<Set<string>> => {
    const seen = new Set<string>();
    const queue = names.map((name) => ({ from: serviceDir, name }));
    while (queue.length > 0) {
      const { from, name } = queue.pop()!;
      const dir = await resolvePackageDir(serviceDir, from, name, read);
      if (dir === undefined || seen.has(dir)) continue;
      seen.add(dir);
      const manifest = await read(dir);
      for (const dep of runtimeDependencyNames(manifest)) queue.push({ from: dir, name: dep });
    }
    return seen;
  };

  const prod = await closure(runtimeDependencyNames(root));
  const dev = await closure(Object.keys(root.devDependencies ?? {}));
  const topLevel = /^node_modules\/(@[^/]+\/)?[^/@][^/]*$/;
  return [...dev]
    .filter((dir) => !prod.has(dir))
    .map((dir) => relative(serviceDir, dir).split(sep).join('/'))
    .filter((rel) => topLevel.test(rel))
    .sort();
}

interface PackageManifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function runtimeDependencyNames(manifest: PackageManifest | undefined): string[] {
  if (manifest === undefined) return [];
  return [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ];
}

async function readManifest(dir: string): Promise<PackageManifest | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as PackageManifest) : undefined;
  } catch {
    return undefined;
  }
}

/** Node's lookup: `<dir>/node_modules/<name>` from `from` upward, not above the service. */
async function resolvePackageDir(
  serviceDir: string,
  from: string,
  name: string,
  read: (dir: string) => Promise<PackageManifest | undefined>,
): Promise<string | undefined> {
  let dir = from;
  for (;;) {
    if (!dir.endsWith(`${sep}node_modules`)) {
      const candidate = join(dir, 'node_modules', name);
      if ((await read(candidate)) !== undefined) return candidate;
    }
    if (dir === serviceDir || !dir.startsWith(serviceDir + sep)) return undefined;
    dir = dirname(dir);
  }
}
