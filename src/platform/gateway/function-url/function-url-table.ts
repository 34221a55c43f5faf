import type { FunctionUrlSettings, ServiceDefinition } from '../../../model/service-definition.js';
import type { StoreReader } from '../../../store/store.js';
import { type CorsPolicy, compileHttpApiCors } from '../cors.js';
import { functionUrlIdOf } from './function-url-id.js';

/** One function URL, compiled when a deployment lands: what a request needs, nothing more. */
export interface FunctionUrlEntry {
  urlId: string;
  service: string;
  stage: string;
  functionKey: string;
  functionName: string;
  authType: FunctionUrlSettings['authType'];
  invokeMode: FunctionUrlSettings['invokeMode'];
  cors: CorsPolicy | undefined;
}

export type FunctionUrlTable = ReadonlyMap<string, FunctionUrlEntry>;

/** The function URLs of one deployed service stage. */
export function functionUrlsOfService(definition: ServiceDefinition): FunctionUrlEntry[] {
  const entries: FunctionUrlEntry[] = [];
  for (const fn of Object.values(definition.functions)) {
    if (!fn.url) continue;
    entries.push({
      urlId: functionUrlIdOf(fn.name),
      service: definition.service,
      stage: definition.stage,
      functionKey: fn.key,
      functionName: fn.name,
      authType: fn.url.authType,
      invokeMode: fn.url.invokeMode,
      // A function URL answers every method, so its preflight allows them all unless told.
      cors: compileHttpApiCors(fn.url.cors, ['*']),
    });
  }
  return entries;
}

export function compileFunctionUrlTable(entries: FunctionUrlEntry[]): FunctionUrlTable {
  return new Map(entries.map((entry) => [entry.urlId, entry]));
}

/** Compiles the function URLs of every stage's current deployment; run at boot and on change. */
export async function loadFunctionUrlTable(store: StoreReader): Promise<FunctionUrlTable> {
  const entries: FunctionUrlEntry[] = [];
  for (const stage of await store.listStages()) {
    const [current] = await store.listDeployments(stage.id);
    if (current) entries.push(...functionUrlsOfService(current.definition));
  }
  return compileFunctionUrlTable(entries);
}
