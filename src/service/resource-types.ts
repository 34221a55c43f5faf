/**
 * The `resources.Resources` types the platform provisions (docs/resources.md). Any other type
 * is warned at load and left alone at deploy. Service areas add their types here when they
 * register a provisioner.
 */
export const PROVISIONED_RESOURCE_TYPES: readonly string[] = [
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::SNS::Topic',
  'AWS::SNS::Subscription',
  'AWS::Kinesis::Stream',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolClient',
];

/**
 * `resources` may be a list of blocks (often `${file(...)}` each); the Framework merges them,
 * later blocks winning per section key.
 */
export function mergeResourceBlocks(resources: unknown): unknown {
  if (!Array.isArray(resources)) return resources;
  const merged: Record<string, Record<string, unknown>> = {};
  for (const block of resources) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) continue;
    for (const [section, body] of Object.entries(block as Record<string, unknown>)) {
      const isMap = typeof body === 'object' && body !== null && !Array.isArray(body);
      merged[section] = isMap ? { ...merged[section], ...(body as object) } : (body as never);
    }
  }
  return merged;
}
