import type { ServiceDefinition } from '../../../model/service-definition.js';
import type { StoreReader } from '../../../store/store.js';

/** The REQUEST authorizer on a WebSocket API's `$connect` route. */
export interface WebSocketAuthorizer {
  functionName: string;
  /** The stage alias for a function of the same service; none for an ARN. */
  qualifier: string | undefined;
  /** `route.request.header.<name>` / `route.request.querystring.<name>`, all required. */
  identitySources: { from: 'header' | 'query'; name: string }[];
}

export interface WebSocketRoute {
  functionName: string;
  qualifier: string;
  /** Two-way route (`routeResponseSelectionExpression`): the function's answer goes back. */
  twoWay: boolean;
}

/** One service stage's WebSocket API, compiled when a deployment lands. */
export interface WebSocketApi {
  /** `<service>-<stage>`: the path segment and host label the API is reached by. */
  key: string;
  service: string;
  stage: string;
  apiId: string;
  /** `$request.body.<path>`: split into the JSON path of the route key in a message. */
  selectionPath: string[];
  routes: ReadonlyMap<string, WebSocketRoute>;
  authorizer: WebSocketAuthorizer | undefined;
}

export type WebSocketTable = ReadonlyMap<string, WebSocketApi>;

export const DEFAULT_ROUTE_SELECTION = '$request.body.action';

/** The WebSocket API of one deployed service stage, if any function has a `websocket` event. */
export function websocketApiOf(definition: ServiceDefinition): WebSocketApi | undefined {
  const routes = new Map<string, WebSocketRoute>();
  let authorizer: WebSocketAuthorizer | undefined;
  for (const fn of Object.values(definition.functions)) {
    for (const event of fn.events) {
      if (event.kind !== 'websocket') continue;
      const config = (event as { config: Record<string, unknown> }).config;
      const routeKey = String(config.route);
      routes.set(routeKey, {
        functionName: fn.name,
        qualifier: definition.stage,
        twoWay: config.routeResponseSelectionExpression !== undefined,
      });
      if (routeKey === '$connect' && config.authorizer !== undefined) {
        authorizer = authorizerOf(config.authorizer, definition);
      }
    }
  }
  if (routes.size === 0) return undefined;
  const key = `${definition.service}-${definition.stage}`;
  return {
    key,
    service: definition.service,
    stage: definition.stage,
    apiId: apiIdOf(key),
    selectionPath: selectionPathOf(definition.provider.websocketsApiRouteSelectionExpression),
    routes,
    authorizer,
  };
}

/** `$request.body.action` → `['action']`; anything else a route key cannot come from. */
export function selectionPathOf(expression: string | undefined): string[] {
  const text = expression ?? DEFAULT_ROUTE_SELECTION;
  const prefix = '$request.body.';
  if (!text.startsWith(prefix) || text.length === prefix.length) {
    throw new Error(
      `websocketsApiRouteSelectionExpression must be $request.body.<field>, not ${text}`,
    );
  }
  return text.slice(prefix.length).split('.');
}

function authorizerOf(raw: unknown, definition: ServiceDefinition): WebSocketAuthorizer {
  const config: Record<string, unknown> =
    typeof raw === 'string'
      ? raw.startsWith('arn:')
        ? { arn: raw }
        : { name: raw }
      : (raw as Record<string, unknown>);
  const sources = config.identitySource ?? ['route.request.header.Auth'];
  const identitySources = (Array.isArray(sources) ? sources : [sources]).map((s) => {
    const text = String(s);
    const header = /^route\.request\.header\.(.+)$/.exec(text);
    if (header) return { from: 'header' as const, name: header[1]!.toLowerCase() };
    const query = /^route\.request\.querystring\.(.+)$/.exec(text);
    if (query) return { from: 'query' as const, name: query[1]! };
    throw new Error(`websocket authorizer identitySource ${text} is not a header or query string`);
  });
  if (typeof config.arn === 'string') {
    const parts = config.arn.split(':');
    return {
      functionName: parts[6] ?? config.arn,
      qualifier: parts[7],
      identitySources,
    };
  }
  const name = String(config.name);
  const fn = definition.functions[name];
  return {
    functionName: fn ? fn.name : name,
    qualifier: fn ? definition.stage : undefined,
    identitySources,
  };
}

/** A stable, API Gateway-looking id (10 lowercase alphanumerics) for a service stage. */
export function apiIdOf(key: string): string {
  let h = 2166136261;
  let out = '';
  for (let round = 0; out.length < 10; round += 1) {
    for (const ch of `${round}:${key}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(36);
  }
  return out.slice(0, 10);
}

/** Compiles the WebSocket APIs of every stage's current deployment; run at boot and on change. */
export async function loadWebSocketTable(
  store: StoreReader,
  onProblem: (key: string, message: string) => void,
): Promise<WebSocketTable> {
  const table = new Map<string, WebSocketApi>();
  for (const stage of await store.listStages()) {
    const [current] = await store.listDeployments(stage.id);
    if (!current) continue;
    try {
      const api = websocketApiOf(current.definition);
      if (api) table.set(api.key, api);
    } catch (error) {
      onProblem(
        `${current.definition.service}-${current.definition.stage}`,
        (error as Error).message,
      );
    }
  }
  return table;
}
