/**
 * A CloudFormation intrinsic written in serverless.yml: a map with one key, `Ref`,
 * `Condition` or `Fn::<name>` (short tags such as `!Ref` load as this long form). The CLI
 * carries them to the platform, which evaluates them at deploy (docs/resources.md).
 */
export function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return (
    keys.length === 1 &&
    (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0]!.startsWith('Fn::'))
  );
}

/** Splits an environment map into plain strings and intrinsics (resolved at deploy). */
export function splitEnvironment(values: Record<string, unknown>): {
  environment: Record<string, string>;
  unresolved: Record<string, unknown>;
} {
  const environment: Record<string, string> = {};
  const unresolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (isIntrinsic(value)) unresolved[name] = value;
    else environment[name] = String(value);
  }
  return { environment, unresolved };
}
