/**
 * Turns `_HANDLER` (`path/to/file.export[.nested]`) into the user's function, loading the module
 * the way Node itself would: `.mjs` and `.js` under a `"type": "module"` package.json are ES
 * modules, `.cjs` and other `.js` are CommonJS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionErrorBody } from '../../model/invocation.js';
import { toErrorBody } from './error-body.js';
import { registerEsmHooks } from './esm-hooks.js';

export type UserHandler = (event: unknown, context: object, callback: Callback) => unknown;
export type Callback = (err?: unknown, result?: unknown) => void;

/** Init failed; `body` is what the caller of the first invoke receives. */
export class InitFailure extends Error {
  readonly body: FunctionErrorBody;

  constructor(body: FunctionErrorBody) {
    super(body.errorMessage);
    this.body = body;
  }
}

const EXTENSIONS = ['.js', '.mjs', '.cjs'];

export async function loadHandler(taskRoot: string, handler: string): Promise<UserHandler> {
  const slash = handler.lastIndexOf('/');
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot < 1 || dot === base.length - 1) {
    throw new InitFailure({
      errorType: 'Runtime.MalformedHandlerName',
      errorMessage: `Bad handler ${handler}: expected <file>.<export>`,
    });
  }
  const moduleName = handler.slice(0, slash + 1) + base.slice(0, dot);
  const names = base.slice(dot + 1).split('.');
  const stem = resolve(taskRoot, moduleName);
  const file = EXTENSIONS.map((ext) => stem + ext).find((f) => existsSync(f));
  if (!file) {
    throw new InitFailure({
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `Error: Cannot find module '${moduleName}' (looked for ${EXTENSIONS.map((e) => moduleName + e).join(', ')} in ${taskRoot})`,
    });
  }
  let target: unknown = await loadModule(file);
  for (const name of names) {
    target =
      target !== null && (typeof target === 'object' || typeof target === 'function')
        ? (target as Record<string, unknown>)[name]
        : undefined;
  }
  if (target === undefined) {
    throw new InitFailure({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${handler} is undefined or not exported`,
    });
  }
  if (typeof target !== 'function') {
    throw new InitFailure({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${handler} is not a function`,
    });
  }
  return target as UserHandler;
}

async function loadModule(file: string): Promise<unknown> {
  try {
    if (file.endsWith('.mjs') || (file.endsWith('.js') && isModulePackage(dirname(file)))) {
      return await importModule(file);
    }
    try {
      return createRequire(file)(file);
    } catch (err) {
      // ESM syntax in a .js file with no "type": "module": Lambda's runtime retries as ESM too.
      if ((err as { code?: string }).code === 'ERR_REQUIRE_ESM') {
        return await importModule(file);
      }
      throw err;
    }
  } catch (err) {
    throw new InitFailure(loadErrorBody(err));
  }
}

/** ES module code resolves through the platform's resolve hooks (SDK fallback, layers). */
function importModule(file: string): Promise<unknown> {
  registerEsmHooks();
  return import(pathToFileURL(file).href);
}

function loadErrorBody(err: unknown): FunctionErrorBody {
  const code = (err as { code?: string } | null)?.code;
  const body = toErrorBody(err);
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
    return { ...body, errorType: 'Runtime.ImportModuleError', errorMessage: describe(err) };
  }
  if (err instanceof SyntaxError) {
    return { ...body, errorType: 'Runtime.UserCodeSyntaxError', errorMessage: describe(err) };
  }
  return body;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The nearest package.json decides, as in Node; a directory without one defers to its parent. */
function isModulePackage(dir: string): boolean {
  let current = dir;
  for (;;) {
    const pkg = join(current, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module';
      } catch {
        return false;
      }
    }
    const up = dirname(current);
    if (up === current) return false;
    current = up;
  }
}
