/**
 * Keeps the stages' API keys in the store in line with their current deployments, and builds
 * the lookup the gate uses (key value → key and usage plan), plus `/v1/.../api-keys` for
 * `nimbus info`.
 */
import type { Logger } from 'pino';
import type { StoreReader } from '../../../store/store.js';
import type { ControlRoute } from '../../control/control-api.js';
import { HttpError } from '../../http/http-error.js';
import { sendJson } from '../../http/send.js';
import type { StageKeys } from './access-gate.js';
import type { KyselyApiKeyStore, StoredApiKey } from './kysely-api-key-store.js';
import { AccessConfigError } from './route-access.js';
import { compileStageUsage, type StageUsage } from './usage-plan-config.js';

type Reader = Pick<StoreReader, 'findStage' | 'listStages' | 'listDeployments'>;

/** Syncs one stage's keys from its current deployment (none: its keys are deleted). */
export async function syncStageKeys(
  store: Reader,
  apiKeys: KyselyApiKeyStore,
  service: string,
  stage: string,
): Promise<{ usage: StageUsage | undefined; keys: StoredApiKey[] }> {
  const row = await store.findStage(service, stage);
  const [current] = row ? await store.listDeployments(row.id) : [];
  const usage = current ? compileStageUsage(current.definition) : undefined;
  await apiKeys.sync(service, stage, usage?.keys ?? []);
  return { usage, keys: usage ? await apiKeys.list(service, stage) : [] };
}

/** Every stage's keys, by `service/stage`, for AccessGate.setStageKeys. */
export async function loadStageKeys(
  store: Reader,
  apiKeys: KyselyApiKeyStore,
  logger: Logger,
): Promise<Map<string, StageKeys>> {
  const out = new Map<string, StageKeys>();
  const stored = await apiKeys.list();
  for (const stage of await store.listStages()) {
    const [current] = await store.listDeployments(stage.id);
    if (!current) continue;
    let usage: StageUsage | undefined;
    try {
      usage = compileStageUsage(current.definition);
    } catch (error) {
      if (!(error instanceof AccessConfigError)) throw error;
      // Its private routes then answer 403 to everyone: closed, not open.
      logger.warn(
        { service: stage.service, stage: stage.stage, reason: error.message },
        'API keys not served',
      );
      continue;
    }
    if (!usage) continue;
    const byValue: StageKeys['byValue'] = new Map();
    for (const spec of usage.keys) {
      const key = stored.find(
        (k) => k.service === stage.service && k.stage === stage.stage && k.name === spec.name,
      );
      const plan = usage.plans.get(spec.plan);
      if (key && plan) byValue.set(key.value, { id: key.id, name: key.name, plan });
    }
    out.set(`${stage.service}/${stage.stage}`, { usage, byValue });
  }
  return out;
}

/**
 * `GET /v1/services/{service}/stages/{stage}/api-keys` → `{apiKeys: [{name, value,
 * description?, usagePlan}]}`: what `nimbus info` prints under `api keys:`.
 */
export function apiKeysRoutes(deps: { store: Reader; apiKeys: KyselyApiKeyStore }): ControlRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/services/{service}/stages/{stage}/api-keys',
      handler: async (_req, res, params) => {
        const { service, stage } = params as { service: string; stage: string };
        if (!(await deps.store.findStage(service, stage))) {
          throw new HttpError(404, 'NIMBUS_NOT_FOUND', `stage ${service}/${stage} does not exist`);
        }
        let synced: Awaited<ReturnType<typeof syncStageKeys>>;
        try {
          // A deploy's 201 comes before the reconciler's pass: sync here too, so the keys exist.
          synced = await syncStageKeys(deps.store, deps.apiKeys, service, stage);
        } catch (error) {
          if (!(error instanceof AccessConfigError)) throw error;
          throw new HttpError(400, 'NIMBUS_DEPLOY_BAD_REQUEST', error.message);
        }
        const planOf = new Map(synced.usage?.keys.map((k) => [k.name, k.plan]));
        sendJson(
          res,
          200,
          {
            apiKeys: synced.keys.map((k) => ({
              name: k.name,
              value: k.value,
              ...(k.description === undefined ? {} : { description: k.description }),
              usagePlan: planOf.get(k.name),
            })),
          },
          { 'cache-control': 'no-store' },
        );
      },
    },
  ];
}
