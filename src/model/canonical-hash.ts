import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so that equal values always hash equally
 * whatever order a YAML file or a client put the keys in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The hash a deployment is compared by: definition plus the artifact each function runs. */
export function deploymentHash(
  definition: unknown,
  functionArtifacts: Record<string, string>,
): string {
  return sha256Hex(canonicalJson({ definition, functionArtifacts }));
}
