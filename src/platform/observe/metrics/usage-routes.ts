import type { ControlRoute } from '../../control/control-api.js';
import { HttpError } from '../../http/http-error.js';
import { sendJson } from '../../http/send.js';
import type { FunctionUsage } from './rollup-recorder.js';

export interface UsageRoutesDeps {
  usage: { query(names: string[], startMs: number, endMs: number): Promise<FunctionUsage[]> };
  now: () => number;
}

/** Functions one request may ask about. */
const maxFunctions = 200;

/**
 * GET /v1/metrics?function=<name>&function=...&startTime=<ms>&endTime=<ms> (docs/metrics.md):
 * usage per function from the per-minute rollups, behind the control API's admin token.
 */
export function usageRoutes(deps: UsageRoutesDeps): ControlRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/metrics',
      handler: async function queryUsage(req, res) {
        const search = new URL(req.url ?? '/', 'http://x').searchParams;
        const names = search.getAll('function');
        if (
          names.length === 0 ||
          names.length > maxFunctions ||
          names.some((n) => !/^[A-Za-z0-9_-]{1,140}$/.test(n))
        ) {
          throw new HttpError(
            400,
            'NIMBUS_METRICS_BAD_PARAM',
            `give 1 to ${maxFunctions} function=<deployed name> parameters`,
          );
        }
        const now = deps.now();
        const endMs = time(search.get('endTime'), 'endTime') ?? now;
        const startMs = time(search.get('startTime'), 'startTime') ?? endMs - 24 * 3_600_000;
        if (startMs > endMs) {
          throw new HttpError(
            400,
            'NIMBUS_METRICS_BAD_PARAM',
            'startTime must not be after endTime',
          );
        }
        const functions = await deps.usage.query(names, startMs, endMs);
        sendJson(res, 200, { startTime: startMs, endTime: endMs, functions });
      },
    },
  ];
}

function time(raw: string | null, name: string): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d{1,16}$/.test(raw)) {
    throw new HttpError(400, 'NIMBUS_METRICS_BAD_PARAM', `${name} must be epoch milliseconds`);
  }
  return Number(raw);
}
