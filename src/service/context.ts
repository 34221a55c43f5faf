import type { SourceLocator } from './source-locator.js';

/** What normalizers share: where things are in the file, and where warnings go. */
export interface NormalizeContext {
  locator: SourceLocator;
  warnings: string[];
  serviceDir: string;
}
