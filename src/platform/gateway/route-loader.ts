import type { ServiceDefinition } from '../../model/service-definition.js';
import type { StoreReader } from '../../store/store.js';
import { albListenersOf } from './alb/alb-table.js';
import { albUrlsOf } from './alb/alb-target.js';
import { functionUrlsOf } from './function-url/function-url-id.js';
import {
  compileRouteTable,
  type RouteSource,
  type RouteTable,
  type StageSettings,
} from './route-table.js';
import { routesOfService } from './service-routes.js';

/** Compiles the routes of every stage's current deployment; run at boot and after each change. */
export async function loadRouteTable(store: StoreReader): Promise<RouteTable> {
  const routes: RouteSource[] = [];
  const settings: StageSettings[] = [];
  for (const stage of await store.listStages()) {
    const [current] = await store.listDeployments(stage.id);
    if (!current) continue;
    const compiled = routesOfService(current.definition);
    routes.push(...compiled.routes);
    settings.push(compiled.settings);
  }
  return compileRouteTable(routes, settings);
}

/**
 * The URLs a stage answers on, as `deploy` and `info` print them (`GET - <url>`): each route in
 * the path-based form on the platform's own address (`/<service>-<stage>/...`), then in the
 * host-based form (`<service>-<stage>.localhost`), which is the one custom domains will use.
 */
export function endpointsOf(definition: ServiceDefinition, platformUrl: string): string[] {
  const url = new URL(platformUrl);
  const pathBase = `${url.protocol}//${url.host}/${definition.service}-${definition.stage}`;
  const hostBase = hostBaseOf(definition, platformUrl);
  const routes: string[] = [];
  for (const { event } of routesOfService(definition).routes) {
    const method = event.method === '*' ? 'ANY' : event.method;
    if (event.kind === 'httpApi' && event.path === '*') routes.push('ANY /{proxy+}');
    else routes.push(`${method} ${event.kind === 'http' ? '/' : ''}${event.path}`);
  }
  const lines: string[] = [];
  for (const base of [pathBase, hostBase]) {
    for (const route of routes) {
      const space = route.indexOf(' ');
      lines.push(`${route.slice(0, space)} - ${base}${route.slice(space + 1)}`);
    }
  }
  // A WebSocket API, as the Serverless Framework prints it (`wss://...`): path form, host form.
  if (
    Object.values(definition.functions).some((fn) => fn.events.some((e) => e.kind === 'websocket'))
  ) {
    const ws = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const port = url.port ? `:${url.port}` : '';
    const key = `${definition.service}-${definition.stage}`;
    lines.push(`${ws}//${url.host}/${key}`, `${ws}//${key}.ws.localhost${port}`);
  }
  // Custom domains (docs/gateway.md#custom-domains): the routes' base there, scheme left to TLS.
  for (const { domainName, basePath } of routesOfService(definition).settings.domains ?? []) {
    lines.push(`domain: ${domainName}/${basePath}`);
  }
  // ALB listeners the stage has rules on: `alb: <url>`, host form then path form.
  for (const listener of albListenersOf(definition)) {
    const urls = albUrlsOf(listener, platformUrl);
    lines.push(`alb: ${urls.host}`, `alb: ${urls.path}`);
  }
  // Function URLs as the Serverless Framework prints them (`<key>: <url>`), host form then the
  // path form for clients that cannot resolve *.localhost.
  for (const fn of Object.values(definition.functions)) {
    if (!fn.url) continue;
    const urls = functionUrlsOf(fn.name, platformUrl);
    lines.push(`${fn.key}: ${urls.host}`, `${fn.key}: ${urls.path}`);
  }
  return lines;
}

/** `http://<service>-<stage>.localhost:<port>`: the host-based base of a stage. */
export function hostBaseOf(definition: ServiceDefinition, platformUrl: string): string {
  const url = new URL(platformUrl);
  const port = url.port ? `:${url.port}` : '';
  return `${url.protocol}//${definition.service}-${definition.stage}.localhost${port}`;
}
