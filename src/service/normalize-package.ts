import type { NormalizeContext } from './context.js';
import type { PropertyPath } from './property-path.js';
import type { PackageInput } from './schema/package-schema.js';

/**
 * `patterns` plus the v2 `exclude`/`include` lists, which Serverless v3 still honours:
 * excludes (negated) first, then includes, then patterns, so later patterns win.
 */
export function packagePatterns(
  pkg: PackageInput | undefined,
  path: PropertyPath,
  ctx: NormalizeContext,
): string[] {
  if (!pkg) return [];
  const legacy: string[] = [];
  for (const key of ['exclude', 'include'] as const) {
    const list = pkg[key];
    if (!list) continue;
    ctx.warnings.push(
      ctx.locator.warning(
        [...path, key],
        `"${key}" is deprecated; Nimbus maps it to "patterns" (use patterns instead)`,
        { atKey: true, shownPath: path },
      ),
    );
    legacy.push(...(key === 'exclude' ? list.map((p) => `!${p}`) : list));
  }
  return [...legacy, ...(pkg.patterns ?? [])];
}
