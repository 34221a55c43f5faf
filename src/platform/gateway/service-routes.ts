import type { ServiceDefinition } from '../../model/service-definition.js';
import type { RouteSource, StageSettings } from './route-table.js';

/** Flattens a service definition into the inputs of compileRouteTable. */
export function routesOfService(definition: ServiceDefinition): {
  routes: RouteSource[];
  settings: StageSettings;
} {
  const routes: RouteSource[] = [];
  const { service, stage } = definition;
  for (const fn of Object.values(definition.functions)) {
    for (const event of fn.events) {
      if (event.kind !== 'http' && event.kind !== 'httpApi') continue;
      routes.push({ service, stage, functionKey: fn.key, functionName: fn.name, event });
    }
  }
  const settings: StageSettings = { service, stage };
  if (definition.provider.httpApi?.cors !== undefined) {
    settings.httpApiCors = definition.provider.httpApi.cors;
  }
  return { routes, settings };
}
