/**
 * PutBucketNotificationConfiguration and GetBucketNotificationConfiguration (`?notification` on
 * a bucket). Where the changes go is notifier.ts's; this checks and stores the configuration.
 */
import { checkResources } from '../../platform/auth/resource-access.js';
import { AwsError } from '../../platform/aws/aws-error.js';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import {
  type BucketNotification,
  destinationResource,
  missingDestination,
  NotificationConfigError,
  notificationFromXml,
  notificationToXml,
} from './notification-config.js';
import { type BucketCall, drain, readXmlBody } from './s3-call.js';
import { s3Errors } from './s3-errors.js';

/** S3's refusal of a configuration, in its own shape. */
export function notificationAwsError(error: NotificationConfigError): AwsError {
  return new AwsError(
    400,
    error.awsCode,
    error.message,
    error.argument
      ? { ArgumentName: error.argument.name, ArgumentValue: error.argument.value }
      : {},
  );
}

export async function putBucketNotification(call: BucketCall): Promise<RestXmlResponse> {
  const doc = await readXmlBody(call);
  let config: BucketNotification;
  try {
    config = notificationFromXml(doc);
  } catch (error) {
    if (error instanceof NotificationConfigError) throw notificationAwsError(error);
    throw error;
  }
  const { deps } = call;
  if (deps.owners) {
    // A stage's credentials send its bucket's changes only to what that stage may reach.
    const refs = config.targets.map((t) => destinationResource(t.kind, t.arn));
    await checkResources(
      { owners: deps.owners, denied: () => s3Errors.accessDenied() },
      call.scope,
      refs,
      true,
    );
  }
  if ((await deps.meta.bucketNotification(call.bucket)) === 'missing') {
    throw s3Errors.noSuchBucket(call.bucket);
  }
  const skip = call.req.headers['x-amz-skip-destination-validation'] === 'true';
  const missing =
    skip || !deps.destinations
      ? undefined
      : await missingDestination(config, (k, arn) => deps.destinations!.exists(k, arn));
  if (missing) {
    throw s3Errors.invalidArgument(
      'Unable to validate the following destination configurations',
      missing.arn,
      'The destination does not exist on this platform',
    );
  }
  if (!(await deps.meta.setBucketNotification(call.bucket, config))) {
    throw s3Errors.noSuchBucket(call.bucket);
  }
  // As S3 does, each queue and topic gets a test event once the configuration is in place.
  if (!skip && deps.destinations) {
    const test = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: new Date(deps.clock.now()).toISOString(),
      Bucket: call.bucket,
      RequestId: call.requestId,
      HostId: call.requestId,
    });
    for (const t of config.targets) {
      if (t.kind !== 'function') await deps.destinations.send(t.kind, t.arn, test);
    }
  }
  return {};
}

export async function getBucketNotification(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const config = await call.deps.meta.bucketNotification(call.bucket);
  if (config === 'missing') throw s3Errors.noSuchBucket(call.bucket);
  return { body: notificationToXml(config) };
}
