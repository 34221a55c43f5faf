/**
 * Logical ids the Serverless Framework gives what it generates, so `Ref`s written against
 * them on AWS resolve on Nimbus too (its `naming.getNormalizedFunctionName` and
 * `normalizeNameToAlphaNumericOnly`).
 */

/** `hello-world_fn` → `HelloDashworldUnderscorefn`: the Framework's normalized name. */
export function normalizedName(name: string): string {
  const cased = name.charAt(0).toUpperCase() + name.slice(1);
  return cased.replaceAll('-', 'Dash').replaceAll('_', 'Underscore');
}

/** `hello` → `HelloLambdaFunction`. */
export function functionLogicalId(functionKey: string): string {
  return `${normalizedName(functionKey)}LambdaFunction`;
}

/** `my-photos.bucket` → `S3BucketMyphotosbucket`, for buckets of s3 events and provider.s3. */
export function bucketLogicalId(name: string): string {
  const alnum = name.replace(/[^0-9A-Za-z]/g, '');
  return `S3Bucket${alnum.charAt(0).toUpperCase()}${alnum.slice(1)}`;
}
