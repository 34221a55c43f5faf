import { NimbusError } from '../../../errors/nimbus-error.js';

/**
 * A problem in `resources` or in an intrinsic elsewhere in the definition, found before
 * anything is created. `path` is where, in serverless.yml terms (e.g.
 * `resources.Resources.Queue.Properties.RedrivePolicy`), so the deploy refusal names it.
 */
export class TemplateError extends NimbusError {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super('NIMBUS_DEPLOY_BAD_REQUEST', `${path}: ${detail}`);
  }
}
