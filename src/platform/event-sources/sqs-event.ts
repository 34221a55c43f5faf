/**
 * A serverless.yml `sqs` event as mapping settings, with the problems Lambda (or the
 * Framework's schema) would refuse it for. Checked at load by the CLI and at deploy by the
 * platform (definition-rules.ts), and turned into a stage's mappings by the reconcile reaction.
 * The `arn` is a plain ARN string by then: `Fn::GetAtt` and friends are resolved before.
 */

import { eventFields, isPlainObject } from './event-fields.js';
import { type MappingSettings, parseSqsArn, sqsDefaults, sqsSettingsProblems } from './mapping.js';

export type SqsEventResult =
  | { ok: true; arn: string; settings: MappingSettings }
  | { ok: false; problems: { field: string; message: string }[] };

export function sqsEventSettings(
  config: Record<string, unknown>,
  opts: { unresolvedArn?: 'allow' } = {},
): SqsEventResult {
  const problems: { field: string; message: string }[] = [];
  const arn = config.arn;
  // An intrinsic (`Fn::GetAtt`, `Ref`) is resolved on the platform, with the resources.
  const unresolved = opts.unresolvedArn === 'allow' && isPlainObject(arn);
  if (!unresolved && (typeof arn !== 'string' || !parseSqsArn(arn))) {
    problems.push({
      field: 'arn',
      message:
        typeof arn === 'string'
          ? `${arn} is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)`
          : 'must be an SQS queue ARN string (arn:aws:sqs:<region>:<account>:<name>)',
    });
  }
  const { int, responseTypes, filterPatterns } = eventFields(config, problems);
  const types = responseTypes();
  const filters = filterPatterns();
  if (config.enabled !== undefined && typeof config.enabled !== 'boolean') {
    problems.push({ field: 'enabled', message: 'must be true or false' });
  }
  const maximumConcurrency = int('maximumConcurrency', undefined);
  const settings: MappingSettings = {
    ...sqsDefaults,
    batchSize: int('batchSize', sqsDefaults.batchSize),
    maximumBatchingWindowInSeconds: int('maximumBatchingWindow', 0),
    functionResponseTypes: types,
    ...(maximumConcurrency === undefined ? {} : { maximumConcurrency }),
    filters,
    enabled: config.enabled !== false,
  };
  if (problems.length === 0) {
    for (const message of sqsSettingsProblems(settings)) {
      problems.push({ field: fieldOf(message), message });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, arn: arn as string, settings };
}

function fieldOf(message: string): string {
  if (/batch window|maximumBatchingWindow/i.test(message)) return 'maximumBatchingWindow';
  if (/batchSize/.test(message)) return 'batchSize';
  if (/maximumConcurrency/.test(message)) return 'maximumConcurrency';
  if (/functionResponseType/.test(message)) return 'functionResponseType';
  return 'filterPatterns';
}
