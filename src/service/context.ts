import type { SourceLocator } from './source-locator.js';

/** `configValidationMode`: what an unknown key does (`off` stays silent). */
export type ValidationMode = 'warn' | 'error' | 'off';

/** What normalizers share: where things are in the file, and where warnings go. */
export interface NormalizeContext {
  locator: SourceLocator;
  warnings: string[];
  serviceDir: string;
  validationMode: ValidationMode;
}
