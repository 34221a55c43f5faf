import { z } from 'zod';
import { environmentMap, intIn, logRetentionDays, looseRecord, stringMap, text } from './fields.js';
import { layerRefList } from './layer-schema.js';

export const STAGE_PATTERN = /^[a-zA-Z0-9_-]+$/;

export const providerSchema = z.looseObject(
  {
    name: text,
    runtime: text.optional(),
    stage: text.optional(),
    region: text.optional(),
    memorySize: intIn(128, 10240).optional(),
    timeout: intIn(1, 900).optional(),
    environment: environmentMap.nullish(),
    httpApi: looseRecord.optional(),
    apiGateway: looseRecord.optional(),
    // The Serverless Framework v1/v2 places; normalize moves them under apiGateway.
    apiKeys: z.unknown().optional(),
    usagePlan: z.unknown().optional(),
    logRetentionInDays: logRetentionDays.optional(),
    /** Bucket definitions (`<key>: {name, ...}`), created at deploy (docs/resources.md). */
    s3: looseRecord.nullish(),
    tags: stringMap.optional(),
    layers: layerRefList.optional(),
    /** A message's route key: `$request.body.<field>` (docs/websockets.md). */
    websocketsApiRouteSelectionExpression: text
      .regex(/^\$request\.body\.[A-Za-z0-9_$.-]+$/, {
        error: 'must be $request.body.<field>, e.g. $request.body.action',
      })
      .optional(),
    /** Nimbus's own settings (docs/runtimes.md): keys AWS has no place for. */
    nimbus: z.looseObject({ concurrency: intIn(1, 1000).optional() }).optional(),
  },
  { error: 'is required and must be a map (at least `name: aws`)' },
);
