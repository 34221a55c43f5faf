/** Which request headers an object keeps, and the headers an object is answered with. */
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError } from '../../platform/aws/aws-error.js';
import { decodeMetadataValue, encodeMetadataValue } from './metadata-values.js';
import type { ObjectRow } from './s3-metadata.js';

/** Response headers stored with an object and returned on GET and HEAD. */
const storedHeaderNames = [
  'content-type',
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;

/** S3's limit on the user-defined metadata of one object (names and values, UTF-8). */
const maxUserMetadataBytes = 2048;

export function storedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const name of storedHeaderNames) {
    let value = headers[name];
    if (typeof value !== 'string') continue;
    if (name === 'content-encoding') {
      // aws-chunked frames this request only; it is not how the object is encoded.
      value = value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '' && v !== 'aws-chunked')
        .join(',');
      if (value === '') continue;
    }
    stored[name] = value;
  }
  stored['content-type'] ??= 'binary/octet-stream';
  return stored;
}

export function userMetadata(headers: IncomingHttpHeaders): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = decodeMetadataValue(Array.isArray(value) ? value.join(',') : value);
    const short = name.slice('x-amz-meta-'.length);
    meta[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > maxUserMetadataBytes) {
    throw new AwsError(
      400,
      'MetadataTooLarge',
      'Your metadata headers exceed the maximum allowed metadata size.',
      { MaxSizeAllowed: String(maxUserMetadataBytes) },
    );
  }
  return meta;
}

/** GetObject's response-* query parameters override the stored headers (presigned downloads). */
const overrides: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

export function objectHeaders(
  row: ObjectRow,
  query?: URLSearchParams,
): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    etag: row.etag,
    'last-modified': new Date(row.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    ...row.headers,
  };
  for (const [name, value] of Object.entries(row.userMetadata)) {
    headers[`x-amz-meta-${name}`] = encodeMetadataValue(value);
  }
  if (row.tags && row.tags.length > 0) headers['x-amz-tagging-count'] = row.tags.length;
  for (const [param, header] of Object.entries(overrides)) {
    const value = query?.get(param);
    if (value) headers[header] = value;
  }
  return headers;
}
