/**
 * Conditional requests (RFC 9110 section 13, as S3 applies them): If-Match and
 * If-Unmodified-Since fail with 412, If-None-Match and If-Modified-Since with 304 on reads.
 * CopyObject checks the same four on its source with the `x-amz-copy-source-` prefix, where
 * every failure is 412.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { s3Errors } from './s3-errors.js';
import type { ObjectRow } from './s3-metadata.js';

export type PreconditionOutcome = 'proceed' | 'not-modified';

export function checkPreconditions(
  headers: IncomingHttpHeaders,
  row: ObjectRow,
  prefix = '',
): PreconditionOutcome {
  const header = (name: string) => {
    const value = headers[`${prefix}${name}`];
    return typeof value === 'string' ? value : undefined;
  };
  const ifMatch = header('if-match');
  const ifNoneMatch = header('if-none-match');
  const ifModifiedSince = parseDate(header('if-modified-since'));
  const ifUnmodifiedSince = parseDate(header('if-unmodified-since'));
  // HTTP dates have whole seconds.
  const modified = Math.floor(row.lastModified / 1000) * 1000;

  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, row.etag)) throw s3Errors.preconditionFailed(`${prefix}If-Match`);
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    throw s3Errors.preconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  const notModified = prefix === '' ? 'not-modified' : undefined;
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, row.etag)) {
      if (notModified) return notModified;
      throw s3Errors.preconditionFailed(`${prefix}If-None-Match`);
    }
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    if (notModified) return notModified;
    throw s3Errors.preconditionFailed(`${prefix}If-Modified-Since`);
  }
  return 'proceed';
}

function etagMatches(condition: string, etag: string): boolean {
  const bare = etag.replace(/^"|"$/g, '');
  return condition
    .split(',')
    .map((c) => c.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .some((c) => c === '*' || c === bare);
}

function parseDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
