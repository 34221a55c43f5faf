/**
 * ESM resolve hook (module.register) of layer-modules.ts: a bare specifier the function's own
 * code cannot resolve is tried from each layer node_modules directory in NODE_PATH order.
 * Anything else fails as it would have.
 */
let parents: string[] = [];

export function initialize(data: { parents: string[] }): void {
  parents = data.parents;
}

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

const relativeOrUrl = /^(?:\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<unknown> {
  try {
    return await next(specifier, context);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || relativeOrUrl.test(specifier)) throw error;
    for (const parentURL of parents) {
      try {
        return await next(specifier, { ...context, parentURL });
      } catch (again) {
        if ((again as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') throw again;
      }
    }
    throw error;
  }
}
