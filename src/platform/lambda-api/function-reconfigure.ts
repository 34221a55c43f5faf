/**
 * Function-level settings the Lambda API changes (tags, event invoke configs, function URLs) are
 * function configuration in Nimbus: each change is a `deploy function --update-config`
 * deployment through the Deployer, read and written in one store transaction.
 */
import type { FunctionDefinition } from '../../model/service-definition.js';
import type { Store } from '../../store/store.js';
import type { Deployer } from '../control/deployer.js';
import { notFound, type OperationRequest } from './function-operations.js';
import { arnOf, type FunctionContext } from './function-views.js';

export interface ReconfigureDeps {
  store: Store;
  deployer: Pick<Deployer, 'deployFunction'>;
  /** Tells the StageReconciler a deployment landed. */
  onDeployed: (change: {
    service: string;
    stage: string;
    functionNames: string[];
  }) => Promise<void>;
}

export function createReconfigurer(deps: ReconfigureDeps) {
  const { store } = deps;

  /** The function and its configuration in the stage's current deployment. */
  async function deployed(r: OperationRequest, name: string) {
    const fn = await store.findFunctionByName(name);
    const stage = fn && (await store.listStages()).find((s) => s.id === fn.stageId);
    const ctx: FunctionContext = {
      fn: fn ?? { id: 0, stageId: 0, key: '', name },
      region: stage?.region ?? r.region,
    };
    const [deployment] = stage ? await store.listDeployments(stage.id) : [];
    const current = fn && deployment?.definition.functions[fn.key];
    if (!fn || !stage || !deployment || !current) {
      throw notFound(`Function not found: ${arnOf(ctx)}`);
    }
    return { ctx, stage, current, deployment };
  }

  /** Applies `change` to the deployed configuration; answers it with its deployment's time. */
  async function reconfigure(
    r: OperationRequest,
    name: string,
    change: (config: FunctionDefinition) => FunctionDefinition,
  ): Promise<{ config: FunctionDefinition; timestamp: number }> {
    const { ctx, stage, current } = await deployed(r, name);
    const config = change(current);
    const outcome = await deps.deployer.deployFunction({
      service: stage.service,
      stage: stage.stage,
      key: ctx.fn.key,
      config,
      force: false,
    });
    if (!outcome.skipped) {
      await deps.onDeployed({
        service: stage.service,
        stage: stage.stage,
        functionNames: [ctx.fn.name],
      });
    }
    return { config, timestamp: outcome.deployment.timestamp };
  }

  return { deployed, reconfigure };
}
