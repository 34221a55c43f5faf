import type { NormalizeContext } from './context.js';
import { isPlainObject, type PropertyPath } from './property-path.js';

/** Unknown keys are most often typos; they are reported but never fatal, as in Serverless. */
export function warnUnknownKeys(
  value: unknown,
  known: readonly string[],
  path: PropertyPath,
  ctx: NormalizeContext,
): void {
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const detail = `unknown property "${key}" (ignored)`;
    ctx.warnings.push(
      ctx.locator.warning([...path, key], detail, { atKey: true, shownPath: path }),
    );
  }
}
