import type { LoadedService } from '../service/load-service.js';
import type { Output, OutputStreams } from './output.js';

/** What every command receives from main(): where it runs and where it writes. */
export interface CliContext extends OutputStreams {
  cwd: string;
  env: Record<string, string | undefined>;
}

/** Options every service command shares (as the Serverless Framework's service commands). */
export interface ServiceOptions {
  config?: string;
  stage?: string;
  region?: string;
  param?: string[];
  verbose?: boolean;
  json?: boolean;
  [other: string]: unknown;
}

export type { LoadedService, Output };
