/** PutBucketCors, GetBucketCors, DeleteBucketCors (`?cors` on a bucket). */
import { AwsError } from '../../platform/aws/aws-error.js';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { CorsConfigError, corsRulesFromXml, corsRulesToXml } from './cors-config.js';
import { type BucketCall, drain, readXmlBody } from './s3-call.js';
import { s3Errors } from './s3-errors.js';

export async function putBucketCors(call: BucketCall): Promise<RestXmlResponse> {
  const doc = await readXmlBody(call);
  let rules: ReturnType<typeof corsRulesFromXml>;
  try {
    rules = corsRulesFromXml(doc);
  } catch (error) {
    if (error instanceof CorsConfigError) throw new AwsError(400, error.awsCode, error.message);
    throw error;
  }
  if (!(await call.deps.meta.setBucketCors(call.bucket, rules))) {
    throw s3Errors.noSuchBucket(call.bucket);
  }
  return {};
}

export async function getBucketCors(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const rules = await call.deps.meta.bucketCors(call.bucket);
  if (rules === 'missing') throw s3Errors.noSuchBucket(call.bucket);
  if (rules === undefined) throw s3Errors.noSuchCorsConfiguration(call.bucket);
  return { body: corsRulesToXml(rules) };
}

export async function deleteBucketCors(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  if (!(await call.deps.meta.setBucketCors(call.bucket, undefined))) {
    throw s3Errors.noSuchBucket(call.bucket);
  }
  return { status: 204 };
}
