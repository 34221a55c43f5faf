/**
 * ESM resolve hook (module.register) of aws-sdk-fallback.ts: an `@aws-sdk/*` import the
 * function's own code cannot resolve is resolved from the platform's copy instead, as Lambda's
 * Node runtimes provide the SDK. Anything else fails as it would have.
 */
let fallbackParent: string | undefined;

export function initialize(data: { parentURL: string }): void {
  fallbackParent = data.parentURL;
}

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<unknown> {
  try {
    return await next(specifier, context);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !fallbackParent || !specifier.startsWith('@aws-sdk/')) {
      throw error;
    }
    return next(specifier, { ...context, parentURL: fallbackParent });
  }
}
