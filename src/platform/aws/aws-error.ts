/**
 * A domain error of an AWS-compatible service: the AWS error code (`NoSuchKey`), its HTTP status
 * and message. Services throw it; the protocol codec of the service shapes the envelope (XML for
 * REST-XML, JSON for the JSON protocols), so a service never writes an error body itself.
 */
export class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields of the envelope (S3: `BucketName`, `Key`, `Condition`...). */
    readonly fields: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = code;
  }
}
