/** The S3 errors Nimbus answers with: codes, statuses and messages as S3 writes them. */
import { AwsError } from '../../platform/aws/aws-error.js';

export const s3Errors = {
  noSuchBucket: (bucket: string) =>
    new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist', {
      BucketName: bucket,
    }),
  noSuchKey: (key: string) =>
    new AwsError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new AwsError(
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may ' +
        'have been aborted or completed.',
      { UploadId: uploadId },
    ),
  bucketNotEmpty: (bucket: string) =>
    new AwsError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', {
      BucketName: bucket,
    }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new AwsError(
      409,
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: bucket },
    ),
  invalidBucketName: (bucket: string) =>
    new AwsError(400, 'InvalidBucketName', 'The specified bucket is not valid.', {
      BucketName: bucket,
    }),
  keyTooLong: () =>
    new AwsError(400, 'KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: '1024' }),
  entityTooLarge: (max: number) =>
    new AwsError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      MaxSizeAllowed: String(max),
    }),
  entityTooSmall: () =>
    new AwsError(
      400,
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed object size.',
    ),
  invalidRange: (size: number) =>
    new AwsError(416, 'InvalidRange', 'The requested range is not satisfiable', {
      ActualObjectSize: String(size),
    }),
  preconditionFailed: (condition: string) =>
    new AwsError(
      412,
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      {
        Condition: condition,
      },
    ),
  malformedXml: () =>
    new AwsError(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    ),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new AwsError(400, 'InvalidArgument', message, {
      ...(name === undefined ? {} : { ArgumentName: name }),
      ...(value === undefined ? {} : { ArgumentValue: value }),
    }),
  invalidRequest: (message: string) => new AwsError(400, 'InvalidRequest', message),
  invalidPart: () =>
    new AwsError(
      400,
      'InvalidPart',
      'One or more of the specified parts could not be found. The part may not have been ' +
        "uploaded, or the specified entity tag may not match the part's entity tag.",
    ),
  invalidPartOrder: () =>
    new AwsError(
      400,
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
    ),
  noSuchCorsConfiguration: (bucket: string) =>
    new AwsError(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist', {
      BucketName: bucket,
    }),
  /** A preflight refused: S3 names the method asked for and whether a bucket or object. */
  corsForbidden: (message: string, method: string, resourceType: 'BUCKET' | 'OBJECT') =>
    new AwsError(403, 'AccessForbidden', `CORSResponse: ${message}`, {
      Method: method,
      ResourceType: resourceType,
    }),
  badRequest: (message: string) => new AwsError(400, 'BadRequest', message),
  invalidTag: (message: string) => new AwsError(400, 'InvalidTag', message),
  accessDenied: (message = 'Access Denied') => new AwsError(403, 'AccessDenied', message),
  methodNotAllowed: () =>
    new AwsError(
      405,
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
    ),
  notImplemented: (what: string) =>
    new AwsError(501, 'NotImplemented', `${what} is not implemented by Nimbus S3 yet`),
};
