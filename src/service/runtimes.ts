import type { RuntimeFamily } from '../model/service-definition.js';

const SUPPORTED: Record<string, RuntimeFamily> = {
  'nodejs18.x': 'nodejs',
  'nodejs20.x': 'nodejs',
  'nodejs22.x': 'nodejs',
  'python3.10': 'python',
  'python3.11': 'python',
  'python3.12': 'python',
  'python3.13': 'python',
  provided: 'provided',
  'provided.al2': 'provided',
  'provided.al2023': 'provided',
};

/** Retired Lambda runtimes still found in old configs: they run on the installed interpreter. */
const LEGACY: Record<string, RuntimeFamily> = {
  'nodejs12.x': 'nodejs',
  'nodejs14.x': 'nodejs',
  'nodejs16.x': 'nodejs',
  'python3.7': 'python',
  'python3.8': 'python',
  'python3.9': 'python',
};

export const DEFAULT_RUNTIME = 'nodejs20.x';
export const SUPPORTED_RUNTIMES: readonly string[] = Object.keys(SUPPORTED);

export type RuntimeCheck =
  | { ok: true; family: RuntimeFamily; legacy: boolean }
  | { ok: false; message: string };

export function checkRuntime(runtime: string): RuntimeCheck {
  const supported = SUPPORTED[runtime];
  if (supported) return { ok: true, family: supported, legacy: false };
  const legacy = LEGACY[runtime];
  if (legacy) return { ok: true, family: legacy, legacy: true };
  return {
    ok: false,
    message: `unsupported runtime "${runtime}" (supported: ${SUPPORTED_RUNTIMES.join(', ')})`,
  };
}

export function legacyRuntimeWarning(runtime: string, family: RuntimeFamily): string {
  const interpreter = family === 'nodejs' ? 'Node.js' : 'Python';
  const base = `runtime "${runtime}" is no longer supported by AWS; Nimbus runs it on the installed ${interpreter}`;
  // Lambda's Node.js 16 and earlier came with aws-sdk v2, so old code requires it unbundled;
  // Nimbus provides the v3 clients only (docs/runtimes.md).
  return family === 'nodejs'
    ? `${base}, which provides @aws-sdk v3 clients but not aws-sdk v2: list aws-sdk in package.json dependencies if the code requires it`
    : base;
}
