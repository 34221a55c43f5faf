/**
 * The reactions the platform runs when a stage changes, each a thin adapter from StageState to
 * the part that owns the concern. Order matters and is set by the composition root: caches
 * first, then what serves requests, then instances.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store.js';
import type { AccessGate } from '../gateway/access/access-gate.js';
import type { KyselyApiKeyStore } from '../gateway/access/kysely-api-key-store.js';
import { AccessConfigError } from '../gateway/access/route-access.js';
import { loadStageKeys, syncStageKeys } from '../gateway/access/stage-keys.js';
import type { AlbListener } from '../gateway/alb/alb-listener.js';
import { loadAlbTable } from '../gateway/alb/alb-table.js';
import type { FunctionUrlListener } from '../gateway/function-url/function-url-listener.js';
import { loadFunctionUrlTable } from '../gateway/function-url/function-url-table.js';
import type { GatewayListener } from '../gateway/gateway-listener.js';
import { loadRouteTable } from '../gateway/route-loader.js';
import type { WebSocketGateway } from '../gateway/websocket/websocket-gateway.js';
import { loadWebSocketTable } from '../gateway/websocket/websocket-table.js';
import type { FunctionResolver } from '../invoker/function-resolver.js';
import type { InstancePool } from '../pool/instance-pool.js';
import type { Protection } from '../protection/protection.js';
import { schedulesOf } from '../triggers/schedule/schedule.js';
import type { ScheduleRunner } from '../triggers/schedule/scheduler.js';
import type { ReservedConcurrency } from './reserved-concurrency.js';
import type { StageReaction } from './stage-reconciler.js';

/** Forgets the resolver's cached versions of the stage's functions, old and new. */
export function resolverReaction(resolver: Pick<FunctionResolver, 'invalidate'>): StageReaction {
  return {
    name: 'resolver',
    react: async (state) => {
      for (const fn of state.functions) resolver.invalidate(fn.name);
      for (const name of state.removed) resolver.invalidate(name);
    },
  };
}

/** Keeps each function's reservedConcurrency where the async worker reads it. */
export function limitsReaction(limits: ReservedConcurrency): StageReaction {
  return {
    name: 'limits',
    react: async (state) => {
      for (const name of state.removed) limits.forget(name);
      for (const fn of state.functions) limits.set(fn.name, fn.reservedConcurrency);
    },
  };
}

/** Replaces the stage's schedule group with the schedule events of its current functions. */
export function schedulesReaction(runner: Pick<ScheduleRunner<unknown>, 'setSchedules'>) {
  return {
    name: 'schedules',
    react: async (state) => {
      await runner.setSchedules(
        schedulesOf(state.functions, { qualifier: state.stage }),
        `${state.service}/${state.stage}`,
      );
    },
  } satisfies StageReaction;
}

/** Recompiles the gateway's route table from every stage's current deployment. */
export function routesReaction(
  gateway: Pick<GatewayListener, 'setTable'>,
  store: Parameters<typeof loadRouteTable>[0],
): StageReaction {
  return {
    name: 'routes',
    react: async () => gateway.setTable(await loadRouteTable(store)),
  };
}

/** Recompiles the function URL table from every stage's current deployment. */
export function functionUrlsReaction(
  urls: Pick<FunctionUrlListener, 'setTable'>,
  store: Parameters<typeof loadFunctionUrlTable>[0],
): StageReaction {
  return {
    name: 'function urls',
    react: async () => urls.setTable(await loadFunctionUrlTable(store)),
  };
}

/** Recompiles the ALB listeners from every stage's current deployment. */
export function albReaction(
  albs: Pick<AlbListener, 'setTable'>,
  store: Parameters<typeof loadAlbTable>[0],
): StageReaction {
  return {
    name: 'alb listeners',
    react: async () => albs.setTable(await loadAlbTable(store)),
  };
}

/** Recompiles the WebSocket API table from every stage's current deployment. */
export function websocketsReaction(
  websockets: Pick<WebSocketGateway, 'setTable'>,
  store: Parameters<typeof loadWebSocketTable>[0],
  logger: Logger,
): StageReaction {
  return {
    name: 'websocket apis',
    react: async () =>
      websockets.setTable(
        await loadWebSocketTable(store, (api, message) =>
          logger.error({ api }, `websocket API not served: ${message}`),
        ),
      ),
  };
}

/** Syncs the stage's API keys with its deployment, then gives the gate every stage's keys. */
export function accessReaction(deps: {
  gate: Pick<AccessGate, 'setStageKeys'>;
  store: Parameters<typeof loadStageKeys>[0];
  apiKeys: KyselyApiKeyStore;
  logger: Logger;
}): StageReaction {
  return {
    name: 'access',
    react: async (state) => {
      try {
        await syncStageKeys(deps.store, deps.apiKeys, state.service, state.stage);
      } catch (error) {
        if (!(error instanceof AccessConfigError)) throw error;
        deps.logger.warn(
          { service: state.service, stage: state.stage, reason: error.message },
          'API keys not synced',
        );
      }
      deps.gate.setStageKeys(await loadStageKeys(deps.store, deps.apiKeys, deps.logger));
    },
  };
}

/** Recompiles the stage's rate limits, breakers and fallbacks (custom.nimbus). */
export function protectionReaction(
  protection: Pick<Protection, 'setStage'>,
  store: Pick<Store, 'findStage' | 'listDeployments'>,
): StageReaction {
  return {
    name: 'protection',
    react: async (state) => {
      const stage = await store.findStage(state.service, state.stage);
      const [current] = stage ? await store.listDeployments(stage.id) : [];
      protection.setStage(state.service, state.stage, current?.definition);
    },
  };
}

export interface InstanceTargets {
  pool: Pick<InstancePool, 'retire' | 'removeFunction'>;
  store: Pick<Store, 'findFunctionByName' | 'listAliases'>;
  /** Extracts a version's code ahead of its first request. */
  prepare(name: string, qualifier: string): Promise<void>;
  /** Starts the provisioned concurrency of the version the stage alias serves. */
  provision(name: string, qualifier: string): Promise<void>;
}

/**
 * Stops instances of removed functions and of versions no alias serves any more, then readies
 * the served version: code extracted, provisioned instances started.
 */
export function instancesReaction(targets: InstanceTargets): StageReaction {
  return {
    name: 'instances',
    react: async (state) => {
      for (const name of state.removed) await targets.pool.removeFunction(name);
      const failures: unknown[] = [];
      for (const fn of state.functions) {
        try {
          const row = await targets.store.findFunctionByName(fn.name);
          if (!row) {
            await targets.pool.removeFunction(fn.name);
            continue;
          }
          const served = (await targets.store.listAliases(row.id)).map((a) => String(a.version));
          await targets.pool.retire(fn.name, new Set(served));
          await targets.prepare(fn.name, state.stage);
          await targets.provision(fn.name, state.stage);
        } catch (error) {
          // One broken function must not keep the stage's other functions from being readied.
          failures.push(error);
        }
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1)
        throw new AggregateError(failures, `${failures.length} functions could not be readied`);
    },
  };
}
