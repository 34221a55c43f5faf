/**
 * A problem in `resources` or in an intrinsic elsewhere in the definition, found before
 * anything is created. `path` is where, in serverless.yml terms (e.g.
 * `resources.Resources.Queue.Properties.RedrivePolicy`), so the deploy refusal names it.
 */
export class TemplateError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'TemplateError';
  }
}
