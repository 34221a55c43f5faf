/**
 * ESM resolve hook (module.register) of aws-sdk-fallback.ts: an `@aws-sdk/*` import the
 * function's own code cannot resolve is resolved from the platform's copy instead, as Lambda's
 * Node runtimes provide the SDK. Anything else fails as it would have.
 */
import { type NextResolve, type ResolveContext, resolveWithFallback } from './fallback-resolve.js';

let fallbackParents: string[] = [];

export function initialize(data: { parentURL: string }): void {
  fallbackParents = [data.parentURL];
}

export function resolve(
  specifier: string,
  context: ResolveContext,
  next: NextResolve,
): Promise<unknown> {
  return resolveWithFallback(specifier, context, next, fallbackParents, (s) =>
    s.startsWith('@aws-sdk/'),
  );
}
