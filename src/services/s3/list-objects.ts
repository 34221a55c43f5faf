/** ListObjectsV2 (continuation tokens, start-after) and ListObjects v1 (marker). */
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { textNode, type XmlNode } from '../../platform/aws/protocols/xml.js';
import { type BucketCall, drain, owner, requireBucket, s3Namespace } from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { ObjectRow, S3Metadata } from './s3-metadata.js';

interface Listing {
  contents: ObjectRow[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  last?: string;
}

/** The highest code point: `prefix + max` sorts after every key that starts with `prefix`. */
const maxChar = '\u{10FFFF}';
const batch = 1000;

/**
 * Keys after `marker` that start with `prefix`, in byte order, up to maxKeys entries; keys with
 * `delimiter` after the prefix roll up into one common prefix each, counted as one entry.
 */
export async function listKeys(
  meta: S3Metadata,
  bucket: string,
  opts: { prefix: string; delimiter: string; marker?: string; maxKeys: number },
): Promise<Listing> {
  const { prefix, delimiter, marker, maxKeys } = opts;
  const listing: Listing = { contents: [], commonPrefixes: [], truncated: false };
  let after = marker;
  let entries = 0;
  scan: while (true) {
    const rows = await meta.listObjects(bucket, { after, from: prefix, limit: batch });
    for (const row of rows) {
      after = row.key;
      if (!row.key.startsWith(prefix)) break scan;
      const cut = delimiter === '' ? -1 : row.key.indexOf(delimiter, prefix.length);
      if (cut >= 0) {
        const common = row.key.slice(0, cut + delimiter.length);
        // A page that ended on this common prefix has returned it already.
        if (common === marker || common === listing.commonPrefixes.at(-1)) {
          after = common + maxChar;
          continue scan;
        }
        if (entries === maxKeys) {
          listing.truncated = true;
          break scan;
        }
        listing.commonPrefixes.push(common);
        listing.last = common;
        entries += 1;
        // Skip the rest of this common prefix in one seek.
        after = common + maxChar;
        continue scan;
      }
      if (entries === maxKeys) {
        listing.truncated = true;
        break scan;
      }
      listing.contents.push(row);
      listing.last = row.key;
      entries += 1;
    }
    if (rows.length < batch) break;
  }
  return listing;
}

function parseMaxKeys(call: BucketCall): number {
  const text = call.query.get('max-keys');
  if (text === null) return 1000;
  if (!/^\d{1,9}$/.test(text)) {
    throw s3Errors.invalidArgument(
      'Provided max-keys not an integer or within integer range',
      'max-keys',
      text,
    );
  }
  return Math.min(Number(text), 1000);
}

function encodingOf(call: BucketCall): (text: string) => string {
  const type = call.query.get('encoding-type');
  if (type === null) return (text) => text;
  if (type !== 'url')
    throw s3Errors.invalidArgument(
      'Invalid Encoding Method specified in Request',
      'encoding-type',
      type,
    );
  return (text) => encodeURIComponent(text).replace(/%2F/g, '/');
}

function contentsNode(
  row: ObjectRow,
  encode: (text: string) => string,
  withOwner: boolean,
): XmlNode {
  return {
    name: 'Contents',
    children: [
      textNode('Key', encode(row.key)),
      textNode('LastModified', new Date(row.lastModified).toISOString()),
      textNode('ETag', row.etag),
      row.checksum ? textNode('ChecksumAlgorithm', row.checksum.name.toUpperCase()) : undefined,
      textNode('Size', row.size),
      withOwner
        ? {
            name: 'Owner',
            children: [textNode('ID', owner.id), textNode('DisplayName', owner.displayName)],
          }
        : undefined,
      textNode('StorageClass', 'STANDARD'),
    ],
  };
}

function prefixNodes(listing: Listing, encode: (text: string) => string): XmlNode[] {
  return listing.commonPrefixes.map((p) => ({
    name: 'CommonPrefixes',
    children: [textNode('Prefix', encode(p))],
  }));
}

export async function listObjectsV2(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const encode = encodingOf(call);
  const maxKeys = parseMaxKeys(call);
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = call.query.get('delimiter') ?? '';
  const token = call.query.get('continuation-token');
  const startAfter = call.query.get('start-after');
  await requireBucket(call);
  const marker = token !== null ? decodeToken(token) : (startAfter ?? undefined);
  const listing = await listKeys(call.deps.meta, call.bucket, {
    prefix,
    delimiter,
    maxKeys,
    ...(marker === undefined ? {} : { marker }),
  });
  const withOwner = call.query.get('fetch-owner') === 'true';
  return {
    body: {
      name: 'ListBucketResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('Name', call.bucket),
        textNode('Prefix', encode(prefix)),
        delimiter ? textNode('Delimiter', encode(delimiter)) : undefined,
        textNode('MaxKeys', maxKeys),
        textNode('KeyCount', listing.contents.length + listing.commonPrefixes.length),
        textNode('IsTruncated', listing.truncated),
        token !== null ? textNode('ContinuationToken', token) : undefined,
        listing.truncated && listing.last !== undefined
          ? textNode('NextContinuationToken', encodeToken(listing.last))
          : undefined,
        startAfter !== null ? textNode('StartAfter', encode(startAfter)) : undefined,
        call.query.get('encoding-type') ? textNode('EncodingType', 'url') : undefined,
        ...listing.contents.map((row) => contentsNode(row, encode, withOwner)),
        ...prefixNodes(listing, encode),
      ],
    },
  };
}

export async function listObjectsV1(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const encode = encodingOf(call);
  const maxKeys = parseMaxKeys(call);
  const prefix = call.query.get('prefix') ?? '';
  const delimiter = call.query.get('delimiter') ?? '';
  const marker = call.query.get('marker') ?? '';
  await requireBucket(call);
  const listing = await listKeys(call.deps.meta, call.bucket, {
    prefix,
    delimiter,
    maxKeys,
    ...(marker === '' ? {} : { marker }),
  });
  return {
    body: {
      name: 'ListBucketResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('Name', call.bucket),
        textNode('Prefix', encode(prefix)),
        textNode('Marker', encode(marker)),
        // Always given when truncated (S3 gives it only with a delimiter): clients use either.
        listing.truncated && listing.last !== undefined
          ? textNode('NextMarker', encode(listing.last))
          : undefined,
        textNode('MaxKeys', maxKeys),
        delimiter ? textNode('Delimiter', encode(delimiter)) : undefined,
        textNode('IsTruncated', listing.truncated),
        call.query.get('encoding-type') ? textNode('EncodingType', 'url') : undefined,
        ...listing.contents.map((row) => contentsNode(row, encode, true)),
        ...prefixNodes(listing, encode),
      ],
    },
  };
}

/** Continuation tokens are opaque to clients: the last key returned, base64url. */
function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(token)) {
    throw s3Errors.invalidArgument(
      'The continuation token provided is incorrect',
      'continuation-token',
      token,
    );
  }
  return Buffer.from(token, 'base64url').toString('utf8');
}
