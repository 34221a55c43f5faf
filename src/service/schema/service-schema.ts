import { z } from 'zod';
import { bool, looseRecord, text } from './fields.js';
import { functionSchema } from './function-schema.js';
import { layerSchema } from './layer-schema.js';
import { packageSchema } from './package-schema.js';
import { providerSchema } from './provider-schema.js';

const pluginList = z.preprocess(
  (v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? ((v as { modules?: unknown }).modules ?? [])
      : v,
  z.array(text, { error: 'must be a list of plugin names, or {localPath, modules}' }),
);

export const serviceSchema = z.looseObject({
  service: z
    .string({ error: 'is required and must be a string' })
    .regex(/^[a-zA-Z][0-9a-zA-Z-]+$/, {
      error: 'must start with a letter and contain only letters, digits and hyphens',
    }),
  frameworkVersion: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), text).optional(),
  configValidationMode: z
    .enum(['warn', 'error', 'off'], { error: 'must be warn, error or off' })
    .optional(),
  useDotenv: bool.optional(),
  provider: providerSchema,
  package: packageSchema.optional(),
  functions: z
    .record(z.string(), functionSchema, { error: 'must be a map of functions' })
    .nullish(),
  layers: z.record(z.string(), layerSchema, { error: 'must be a map of layers' }).nullish(),
  plugins: pluginList.optional(),
  custom: looseRecord.nullish(),
  params: looseRecord.optional(),
  // Evaluated by the platform at deploy (docs/resources.md); a list of blocks is merged first.
  resources: z
    .union([looseRecord, z.array(z.unknown())], { error: 'must be a map (or a list of maps)' })
    .nullish(),
});

export type ServiceInput = z.infer<typeof serviceSchema>;
