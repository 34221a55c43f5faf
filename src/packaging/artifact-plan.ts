import { basename, resolve } from 'node:path';
import type { FunctionDefinition, ServiceDefinition } from '../model/service-definition.js';
import {
  bundleOutputPath,
  isTypeScriptHandler,
  typeScriptSourcePatterns,
} from './bundle-typescript.js';
import { PackagingError } from './errors.js';
import { layerExcludePatterns } from './layer-artifacts.js';

/** A TypeScript handler file to bundle into a zip, once for every function it serves. */
export interface PlannedBundle {
  functionKeys: string[];
  handlerFile: string;
}

/** One file that will exist in outDir, and the functions that run from it. */
export type ArtifactPlan =
  | {
      kind: 'prebuilt';
      file: string;
      /** Absolute path of the `package.artifact` zip. */
      source: string;
      /** As written in the config, for messages. */
      configured: string;
      functions: string[];
    }
  | {
      kind: 'zip';
      file: string;
      patterns: string[];
      bundles: PlannedBundle[];
      functions: string[];
    };

/**
 * Decides which artifacts to produce, following Serverless: a function's own `package.artifact`
 * wins, then the service's; otherwise `individually` (service or function level) gives the
 * function `<key>.zip` built from service then function patterns; all other functions share
 * `<service>.zip` built from the service patterns (function patterns only apply individually).
 */
export function planArtifacts(definition: ServiceDefinition, serviceDir: string): ArtifactPlan[] {
  const plans: ArtifactPlan[] = [];
  const prebuilt = new Map<string, Extract<ArtifactPlan, { kind: 'prebuilt' }>>();
  const shared: FunctionDefinition[] = [];
  const servicePatterns = [...layerExcludePatterns(definition), ...definition.package.patterns];

  for (const key of Object.keys(definition.functions).sort()) {
    const fn = definition.functions[key]!;
    const artifact = fn.package?.artifact ?? definition.package.artifact;
    if (artifact !== undefined) {
      const source = resolve(serviceDir, artifact);
      let plan = prebuilt.get(source);
      if (plan === undefined) {
        plan = {
          kind: 'prebuilt',
          file: basename(source),
          source,
          configured: artifact,
          functions: [],
        };
        prebuilt.set(source, plan);
        plans.push(plan);
      }
      plan.functions.push(key);
    } else if (definition.package.individually || fn.package?.individually === true) {
      const bundles = bundlesFor([fn]);
      plans.push({
        kind: 'zip',
        file: `${key}.zip`,
        patterns: withTypeScriptExcludes(bundles, [
          ...servicePatterns,
          ...(fn.package?.patterns ?? []),
        ]),
        bundles,
        functions: [key],
      });
    } else {
      shared.push(fn);
    }
  }
  if (shared.length > 0) {
    const bundles = bundlesFor(shared);
    plans.push({
      kind: 'zip',
      file: `${definition.service}.zip`,
      patterns: withTypeScriptExcludes(bundles, servicePatterns),
      bundles,
      functions: shared.map((fn) => fn.key),
    });
  }
  assertDistinctFiles(plans);
  return plans.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * One bundle per handler file: functions whose handlers are exports of the same file share the
 * module, as they would share the .js file (the bundle keeps every export of its entry).
 */
function bundlesFor(functions: FunctionDefinition[]): PlannedBundle[] {
  const byFile = new Map<string, PlannedBundle>();
  const byOutput = new Map<string, string>();
  for (const fn of functions) {
    if (fn.runtimeFamily !== 'nodejs' || !isTypeScriptHandler(fn.handlerFile)) continue;
    const planned = byFile.get(fn.handlerFile);
    if (planned) {
      planned.functionKeys.push(fn.key);
      continue;
    }
    const output = bundleOutputPath(fn.handlerFile);
    const other = byOutput.get(output);
    if (other !== undefined) {
      throw new PackagingError(
        'NIMBUS_PACKAGING_ARTIFACT_CONFLICT',
        `${other} and ${fn.handlerFile} (function "${fn.key}") would both be bundled as ${output}; rename one`,
      );
    }
    byOutput.set(output, fn.handlerFile);
    byFile.set(fn.handlerFile, { functionKeys: [fn.key], handlerFile: fn.handlerFile });
  }
  return [...byFile.values()];
}

/** Bundled sources need not ship; the exclusion goes first so user patterns can re-include. */
function withTypeScriptExcludes(bundles: PlannedBundle[], patterns: string[]): string[] {
  return bundles.length > 0 ? [...typeScriptSourcePatterns, ...patterns] : [...patterns];
}

function assertDistinctFiles(plans: ArtifactPlan[]): void {
  const seen = new Map<string, ArtifactPlan>();
  for (const plan of plans) {
    const other = seen.get(plan.file);
    if (other !== undefined) {
      throw new PackagingError(
        'NIMBUS_PACKAGING_ARTIFACT_CONFLICT',
        `two artifacts would both be written as ${plan.file} (${describe(other)} and ${describe(plan)}); rename one`,
      );
    }
    seen.set(plan.file, plan);
  }
}

function describe(plan: ArtifactPlan): string {
  return plan.kind === 'prebuilt'
    ? `package.artifact ${plan.configured}`
    : `the zip for ${plan.functions.join(', ')}`;
}
