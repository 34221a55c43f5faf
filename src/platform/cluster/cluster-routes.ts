import type { ControlRoute } from '../control/control-api.js';
import { sendJson } from '../http/send.js';
import type { NodeRegistry } from './node-registry.js';

/** `GET /v1/cluster/nodes` (docs/http-api.md): every node that ever heartbeat, with its health. */
export function clusterRoutes(deps: {
  registry: Pick<NodeRegistry, 'list'>;
  nodeName: string;
  mode: 'single' | 'cluster';
}): ControlRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/cluster/nodes',
      handler: async (_req, res) =>
        sendJson(res, 200, {
          mode: deps.mode,
          self: deps.nodeName,
          nodes: await deps.registry.list(),
        }),
    },
  ];
}
