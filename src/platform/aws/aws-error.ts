import { NimbusError } from '../../errors/nimbus-error.js';

/**
 * A domain error of an AWS-compatible service: the AWS error code (`NoSuchKey`), its HTTP status
 * and message. Services throw it; the protocol codec of the service shapes the envelope (XML for
 * REST-XML, JSON for the JSON protocols), so a service never writes an error body itself.
 */
export class AwsError extends NimbusError {
  declare readonly status: number;
  constructor(
    status: number,
    /** The AWS error code the envelope carries (`NoSuchKey`, `SignatureDoesNotMatch`...). */
    readonly awsCode: string,
    message: string,
    /** Extra fields of the envelope (S3: `BucketName`, `Key`, `Condition`...). */
    readonly fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ) {
    super('NIMBUS_AWS_ERROR', message, { status, headers });
    this.name = awsCode;
  }
}
