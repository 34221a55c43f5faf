/** CopyObject: `x-amz-copy-source`, metadata and tagging directives, source preconditions. */
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { textNode } from '../../platform/aws/protocols/xml.js';
import { storedHeaders, userMetadata } from './object-headers.js';
import { findObject, storeObject } from './object-operations.js';
import { tagsFromHeader } from './object-tagging.js';
import { checkPreconditions } from './preconditions.js';
import {
  checkKey,
  drain,
  type ObjectCall,
  objectChanged,
  requireBucket,
  s3Namespace,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { ObjectRow } from './s3-metadata.js';

export async function copyObject(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  checkKey(call.key);
  const source = parseCopySource(String(call.req.headers['x-amz-copy-source']));
  const metadataDirective = directive(call, 'x-amz-metadata-directive');
  const taggingDirective = directive(call, 'x-amz-tagging-directive');
  await requireBucket(call);
  const from = await findObject({ ...call, bucket: source.bucket, key: source.key });
  checkPreconditions(call.req.headers, from, 'x-amz-copy-source-');
  const sameObject = source.bucket === call.bucket && source.key === call.key;
  if (sameObject && metadataDirective === 'COPY') {
    throw s3Errors.invalidRequest(
      'This copy request is illegal because it is trying to copy an object to itself without ' +
        "changing the object's metadata, storage class, website redirect location or " +
        'encryption attributes.',
    );
  }
  const replace = metadataDirective === 'REPLACE';
  const tags =
    taggingDirective === 'REPLACE' ? tagsFromHeader(call.req.headers['x-amz-tagging']) : from.tags;
  const blobId = await call.deps.files.copy(from.blobId);
  const row: ObjectRow = {
    bucket: call.bucket,
    key: call.key,
    blobId,
    size: from.size,
    etag: from.etag,
    lastModified: call.deps.clock.now(),
    headers: replace ? storedHeaders(call.req.headers) : from.headers,
    userMetadata: replace ? userMetadata(call.req.headers) : from.userMetadata,
    ...(from.checksum ? { checksum: from.checksum } : {}),
    ...(tags ? { tags } : {}),
  };
  await storeObject(call, row);
  await objectChanged(call, {
    bucket: row.bucket,
    key: row.key,
    eventName: 'ObjectCreated:Copy',
    size: row.size,
    etag: row.etag,
    at: row.lastModified,
  });
  return {
    body: {
      name: 'CopyObjectResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('LastModified', new Date(row.lastModified).toISOString()),
        textNode('ETag', row.etag),
      ],
    },
  };
}

/** `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=...`. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const [path = '', query = ''] = header.split('?');
  const versionId = new URLSearchParams(query).get('versionId');
  if (versionId !== null && versionId !== 'null') {
    throw s3Errors.notImplemented('Copying a specific object version');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw s3Errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', header);
  }
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw s3Errors.invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      header,
    );
  }
  return { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1) };
}

function directive(call: ObjectCall, header: string): 'COPY' | 'REPLACE' {
  const value = call.req.headers[header];
  if (value === undefined || value === 'COPY') return 'COPY';
  if (value === 'REPLACE') return 'REPLACE';
  throw s3Errors.invalidArgument(`Unknown ${header}`, header, String(value));
}
