import { z } from 'zod';
import { isIntrinsic } from '../../model/intrinsic.js';
import { isPlainObject } from '../property-path.js';
import { isDeliverableDestination } from '../support-table.js';
import { bool, environmentMap, intIn, logRetentionDays, looseRecord, text } from './fields.js';
import { layerRefList } from './layer-schema.js';
import { packageSchema } from './package-schema.js';

/**
 * A destination is a name, an ARN, or `{type, arn}`; Nimbus keeps just the target string, and
 * drops the kinds it cannot deliver to yet (the support table warns about them) so that a
 * failed event is dead-lettered instead of being sent nowhere.
 */
const destination = z.preprocess(
  (v) => {
    // `!GetAtt Queue.Arn` (or `{type: sqs, arn: !GetAtt Queue.Arn}`): resolved at deploy.
    if (isIntrinsic(v)) return v;
    if (isPlainObject(v) && isIntrinsic(v.arn)) return v.arn;
    if (!isDeliverableDestination(v)) return undefined;
    return isPlainObject(v) ? v.arn : v;
  },
  z
    .union([z.string(), z.custom<Record<string, unknown>>(isIntrinsic)], {
      error: 'must be a function name, an ARN or {type, arn}',
    })
    .optional(),
);

export const functionSchema = z.looseObject(
  {
    handler: z.string({ error: 'is required (e.g. `handler: src/handler.hello`)' }),
    name: text.optional(),
    description: text.optional(),
    runtime: text.optional(),
    memorySize: intIn(128, 10240).optional(),
    timeout: intIn(1, 900).optional(),
    environment: environmentMap.nullish(),
    events: z.array(z.unknown(), { error: 'must be a list of events' }).nullish(),
    layers: layerRefList.optional(),
    destinations: z
      .looseObject({ onSuccess: destination.optional(), onFailure: destination.optional() })
      .optional(),
    maximumRetryAttempts: intIn(0, 8).optional(),
    maximumEventAge: intIn(60, 86400).optional(),
    reservedConcurrency: intIn(0).optional(),
    provisionedConcurrency: intIn(0).optional(),
    concurrency: intIn(1, 1000).optional(),
    logRetentionInDays: logRetentionDays.optional(),
    // An SNS topic or SQS queue ARN, or an intrinsic naming one; checked in normalize.
    onError: z.unknown().optional(),
    package: packageSchema.optional(),
    url: z
      .union([
        bool,
        z.looseObject({
          authorizer: z
            .enum(['aws_iam'], { error: 'must be aws_iam (or left out for a public URL)' })
            .optional(),
          cors: z.union([bool, looseRecord]).optional(),
          invokeMode: z
            .enum(['BUFFERED', 'RESPONSE_STREAM'], { error: 'must be BUFFERED or RESPONSE_STREAM' })
            .optional(),
        }),
      ])
      .optional(),
  },
  { error: 'must be a map with at least a `handler`' },
);

export type FunctionInput = z.infer<typeof functionSchema>;
