/** SigV4 failures as S3 names them. */
import type { SigV4Failure } from '../../platform/auth/sigv4.js';
import { AwsError } from '../../platform/aws/aws-error.js';

export function s3AuthError(failure: SigV4Failure, presigned: boolean): AwsError {
  switch (failure.reason) {
    case 'missing':
      return new AwsError(403, 'AccessDenied', 'Access Denied');
    case 'unknown-key':
      return new AwsError(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    case 'mismatch':
      return new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. ' +
          'Check your key and signing method.',
      );
    case 'expired':
      return new AwsError(403, 'AccessDenied', failure.message);
    case 'skew':
      return presigned
        ? new AwsError(403, 'AccessDenied', failure.message)
        : new AwsError(
            403,
            'RequestTimeTooSkewed',
            'The difference between the request time and the current time is too large.',
          );
    default:
      return presigned
        ? new AwsError(400, 'AuthorizationQueryParametersError', failure.message)
        : new AwsError(400, 'AuthorizationHeaderMalformed', failure.message);
  }
}
