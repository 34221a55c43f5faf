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
  return `runtime "${runtime}" is no longer supported by AWS; Nimbus runs it on the installed ${interpreter}`;
}
