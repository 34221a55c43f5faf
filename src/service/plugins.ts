import type { NormalizeContext } from './context.js';

/** Plugins whose job Nimbus already does itself (local runs, TypeScript, bundling). */
const COVERED = new Set([
  'serverless-offline',
  'serverless-plugin-typescript',
  'serverless-esbuild',
  'serverless-webpack',
]);

/** Warns about each plugin Nimbus does not cover; `plugins` is the normalized name list. */
export function checkPlugins(raw: unknown, plugins: string[], ctx: NormalizeContext): void {
  const listPath = Array.isArray(raw) ? ['plugins'] : ['plugins', 'modules'];
  plugins.forEach((name, i) => {
    if (COVERED.has(name)) return;
    const detail = `plugin "${name}" is not supported by Nimbus and is ignored`;
    ctx.warnings.push(ctx.locator.warning([...listPath, i], detail, { shownPath: [] }));
  });
}
