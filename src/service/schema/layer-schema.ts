import { z } from 'zod';
import { bool, stringList, text } from './fields.js';
import { packageSchema } from './package-schema.js';

/** One entry of the top-level `layers:` (the Serverless Framework's layer properties). */
export const layerSchema = z.looseObject(
  {
    path: text.optional(),
    name: text.optional(),
    description: text.optional(),
    compatibleRuntimes: stringList.optional(),
    compatibleArchitectures: stringList.optional(),
    licenseInfo: text.optional(),
    allowedAccounts: stringList.optional(),
    retain: bool.optional(),
    package: packageSchema.optional(),
  },
  { error: 'must be a map with a path' },
);

/** `layers:` of a function or the provider: refs and ARNs, checked one by one when normalized. */
export const layerRefList = z.array(z.unknown(), {
  error: 'must be a list of layer version ARNs or {Ref: <Name>LambdaLayer}',
});

export type LayerInput = z.infer<typeof layerSchema>;
