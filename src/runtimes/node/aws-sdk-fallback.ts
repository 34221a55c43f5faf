/**
 * The AWS SDK for functions that do not bundle it (docs/runtimes.md). As on Lambda's nodejs18+
 * runtimes, `@aws-sdk/*` v3 packages resolve from the platform's own install when the function's
 * node_modules has none: its own copy always wins, because the platform's is only tried after
 * Node's ordinary resolution failed. Only `@aws-sdk/*` falls back; the platform's other
 * dependencies stay out of reach.
 *
 * Also points a bundled legacy `aws-sdk` (v2), which ignores AWS_ENDPOINT_URL, at the endpoint
 * the platform gave the function, the moment the function loads it.
 */
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deferEsmHook } from './esm-hooks.js';

type ResolveFilename = (request: string, parent: unknown, ...rest: unknown[]) => string;
type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const internals = Module as unknown as { _resolveFilename: ResolveFilename; _load: Load };

/** `sdkModulesDir`: the node_modules directory holding the platform's `@aws-sdk` packages. */
export function installAwsSdkFallback(sdkModulesDir: string | undefined): void {
  if (sdkModulesDir) {
    // Resolution "from" a file directly in that node_modules finds its packages first.
    const anchor = join(sdkModulesDir, 'nimbus-aws-sdk-anchor.js');
    const requireFromPlatform = createRequire(anchor);
    const original = internals._resolveFilename;
    internals._resolveFilename = function resolveWithSdk(request, parent, ...rest) {
      try {
        return original.call(this, request, parent, ...rest);
      } catch (error) {
        if (
          (error as { code?: unknown }).code !== 'MODULE_NOT_FOUND' ||
          !request.startsWith('@aws-sdk/')
        ) {
          throw error;
        }
        return requireFromPlatform.resolve(request);
      }
    };
    // For `import`: registered only if the function's code is loaded as ESM (esm-hooks.ts).
    deferEsmHook('./aws-sdk-resolve-hook.js', import.meta.url, {
      parentURL: pathToFileURL(anchor).href,
    });
  }
  patchLegacySdkOnLoad();
}

interface LegacyAws {
  config?: { update?: (options: Record<string, unknown>) => void };
}

const patched = new WeakSet<object>();

/**
 * aws-sdk v2 reads no endpoint variables: when a function loads it, its global config gets the
 * platform's endpoint and path-style S3 (the endpoint is an IP address, not a bucket's host).
 * A function that sets an endpoint on a client still wins (client options beat the global config).
 */
function patchLegacySdkOnLoad(): void {
  const originalLoad = internals._load;
  internals._load = function loadAndPatch(request, parent, isMain) {
    const loaded = originalLoad.call(this, request, parent, isMain);
    if ((request === 'aws-sdk' || request === 'aws-sdk/global') && loaded) {
      pointLegacySdk(loaded as LegacyAws);
    }
    return loaded;
  };
}

function pointLegacySdk(aws: LegacyAws): void {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint || typeof aws.config?.update !== 'function' || patched.has(aws)) return;
  patched.add(aws);
  aws.config.update({ endpoint, s3ForcePathStyle: true });
}
