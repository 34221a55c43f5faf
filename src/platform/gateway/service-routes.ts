import type { ServiceDefinition } from '../../model/service-definition.js';
import { AccessConfigError, compileRouteAccess } from './access/route-access.js';
import { domainsOf } from './custom-domains.js';
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
      const source: RouteSource = {
        service,
        stage,
        functionKey: fn.key,
        functionName: fn.name,
        event,
      };
      try {
        const access = compileRouteAccess(definition, event);
        if (access) source.access = access;
      } catch (error) {
        if (!(error instanceof AccessConfigError)) throw error;
        source.accessError = `authorizer: ${error.message}`;
      }
      routes.push(source);
    }
  }
  const settings: StageSettings = { service, stage };
  if (definition.provider.httpApi?.cors !== undefined) {
    settings.httpApiCors = definition.provider.httpApi.cors;
  }
  const domains = domainsOf(definition.custom ?? {}, stage);
  if (domains.length > 0) settings.domains = domains;
  return { routes, settings };
}
