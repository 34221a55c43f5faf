import { z } from 'zod';
import { bool, stringList, text } from './fields.js';

/** `package:` at service and function level; `exclude`/`include` are v2 leftovers. */
export const packageSchema = z.looseObject(
  {
    patterns: stringList.optional(),
    individually: bool.optional(),
    artifact: text.optional(),
    excludeDevDependencies: bool.optional(),
    exclude: stringList.optional(),
    include: stringList.optional(),
  },
  { error: 'must be a map' },
);

export type PackageInput = z.infer<typeof packageSchema>;
