/**
 * ESM resolve hook (module.register) of layer-modules.ts: a bare specifier the function's own
 * code cannot resolve is tried from each layer node_modules directory in NODE_PATH order.
 * Anything else fails as it would have.
 */
import { type NextResolve, type ResolveContext, resolveWithFallback } from './fallback-resolve.js';

let parents: string[] = [];

export function initialize(data: { parents: string[] }): void {
  parents = data.parents;
}

const relativeOrUrl = /^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/;

export function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<unknown> {
  return resolveWithFallback(specifier, context, next, parents, (s) => !relativeOrUrl.test(s));
}
