import { AwsError } from '../../platform/aws/aws-error.js';
import { virtualHostBucket } from '../../platform/front-door/aws-service-of.js';

/** What an S3 request addresses: nothing (the service), a bucket, or an object. */
export interface S3Address {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
}

/**
 * Virtual-host style (`<bucket>.s3.localhost/<key>`) when the Host names a bucket, else path
 * style (`/<bucket>/<key>`). The key is the rest of the path, percent-decoded once: `a/b%2Fc`
 * and `a/b/c` name the same key, as on S3.
 */
export function s3Address(host: string | undefined, path: string, rawQuery: string): S3Address {
  const query = new URLSearchParams(rawQuery);
  const hosted = virtualHostBucket(host);
  if (hosted !== undefined) {
    const key = decode(path.slice(1));
    return key === '' ? { bucket: hosted, query } : { bucket: hosted, key, query };
  }
  const rest = path.slice(1);
  if (rest === '') return { query };
  const slash = rest.indexOf('/');
  const bucket = decode(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? '' : decode(rest.slice(slash + 1));
  return key === '' ? { bucket, query } : { bucket, key, query };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new AwsError(400, 'InvalidURI', 'Could not parse the specified URI.');
  }
}
