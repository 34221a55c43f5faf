/**
 * What the function's ESM resolve hooks share: resolve as Node would, and only when that fails
 * with ERR_MODULE_NOT_FOUND for a specifier the hook serves, try again as if imported from each
 * fallback parent in turn (the platform's SDK copy, the layers' node_modules). Any other failure,
 * or no fallback finding it either, fails with the original error.
 */
export interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
export type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

const notFound = (error: unknown) =>
  (error as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND';

export async function resolveWithFallback(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
  fallbackParents: readonly string[],
  serves: (specifier: string) => boolean,
): Promise<unknown> {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (!notFound(error) || !serves(specifier)) throw error;
    for (const parentURL of fallbackParents) {
      try {
        return await next(specifier, { ...context, parentURL });
      } catch (again) {
        if (!notFound(again)) throw again;
      }
    }
    throw error;
  }
}
