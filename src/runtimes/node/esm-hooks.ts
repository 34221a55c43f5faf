/**
 * ESM resolve hooks (module.register), registered only once the function's own code is about to
 * be loaded as an ES module. On Node 20 the first register() starts the loader-hooks thread, a
 * second V8 isolate of about 10 MiB RSS, in every function process whether it ever imports
 * anything or not: a CommonJS handler resolves through the `require` patches alone and never
 * pays for it.
 */
import { register } from 'node:module';

interface PendingHook {
  specifier: string;
  parentURL: string;
  data: unknown;
}

const pending: PendingHook[] = [];

/** Queues a hook; it is registered, in queue order, by registerEsmHooks(). */
export function deferEsmHook(specifier: string, parentURL: string, data: unknown): void {
  pending.push({ specifier, parentURL, data });
}

/** Called right before the function's code is imported as ESM; a no-op once nothing is queued. */
export function registerEsmHooks(): void {
  for (const hook of pending.splice(0)) {
    register(hook.specifier, hook.parentURL, { data: hook.data });
  }
}
