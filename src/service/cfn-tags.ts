/**
 * CloudFormation short-form tags (`!Ref`, `!GetAtt a.b`, `!Sub ...`) are common in
 * `resources:`; Serverless loads them as their long form, so Nimbus does the same.
 */
const FN_TAGS = new Set([
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
]);

export function isCfnTag(tag: string | undefined): boolean {
  if (!tag?.startsWith('!')) return false;
  const name = tag.slice(1);
  return name === 'Ref' || name === 'Condition' || FN_TAGS.has(name);
}

/** The long form of a tagged value, e.g. `!GetAtt Queue.Arn` → `{'Fn::GetAtt': ['Queue', 'Arn']}`. */
export function expandCfnTag(tag: string, value: unknown): Record<string, unknown> {
  const name = tag.slice(1);
  if (name === 'Ref' || name === 'Condition') return { [name]: value };
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: value };
}
