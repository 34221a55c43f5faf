/**
 * Browser form uploads (presigned POST) to a path-style bucket URL on the platform's own address
 * (`http://127.0.0.1:8642/<bucket>`). A form carries its signature in its body, where the front
 * door does not look, so such a POST first goes to the gateway; only when no route matches is it
 * offered here, and it is S3's when it is a multipart/form-data POST to `/<bucket>` (or
 * `/<bucket>/`) of an existing bucket. S3 then checks the policy signature as for any form
 * upload: nothing reaches a bucket unsigned.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidBucketName } from './bucket-name.js';
import { isFormUpload } from './post-object.js';
import type { S3Metadata } from './s3-metadata.js';

export function formUploadsOnPlatformAddress(
  meta: Pick<S3Metadata, 'findBucket'>,
  s3: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
) {
  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> => {
    if (!isFormUpload(req)) return false;
    const bucket = bucketOfPath(pathname);
    if (bucket === undefined || !(await meta.findBucket(bucket))) return false;
    await s3(req, res);
    return true;
  };
}

/** `/<bucket>` or `/<bucket>/`, a valid bucket name as written (no percent-escapes in one). */
function bucketOfPath(pathname: string): string | undefined {
  const name = pathname.slice(1).replace(/\/$/, '');
  return isValidBucketName(name) ? name : undefined;
}
