/** PutObject, GetObject, HeadObject, DeleteObject. */
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { verifiedPayload } from '../../platform/aws/sigv4/verified-payload.js';
import { type ByteRange, parseRange } from './byte-range.js';
import { BlobTooLargeError, type WrittenBlob } from './object-files.js';
import { objectHeaders, storedHeaders, userMetadata } from './object-headers.js';
import { tagsFromHeader } from './object-tagging.js';
import { checkPreconditions } from './preconditions.js';
import {
  checkKey,
  declaredSize,
  drain,
  type ObjectCall,
  objectChanged,
  requireBucket,
  type S3Call,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { ObjectRow } from './s3-metadata.js';

export async function putObject(call: ObjectCall): Promise<RestXmlResponse> {
  checkKey(call.key);
  const headers = storedHeaders(call.req.headers);
  const metadata = userMetadata(call.req.headers);
  const tags = tagsFromHeader(call.req.headers['x-amz-tagging']);
  await requireBucket(call);
  const { written, checksum } = await writeBody(call);
  const row: ObjectRow = {
    bucket: call.bucket,
    key: call.key,
    blobId: written.blobId,
    size: written.size,
    etag: `"${written.md5Hex}"`,
    lastModified: call.deps.clock.now(),
    headers,
    userMetadata: metadata,
    ...(checksum ? { checksum } : {}),
    ...(tags ? { tags } : {}),
  };
  await storeObject(call, row);
  await objectChanged(call, {
    bucket: row.bucket,
    key: row.key,
    eventName: 'ObjectCreated:Put',
    size: row.size,
    etag: row.etag,
    at: row.lastModified,
  });
  return {
    headers: {
      etag: row.etag,
      ...(checksum ? { [`x-amz-checksum-${checksum.name}`]: checksum.value } : {}),
    },
  };
}

/** Streams the verified body into a new blob, within the single-PUT limit. */
export async function writeBody(
  call: S3Call,
): Promise<{ written: WrittenBlob; checksum?: { name: string; value: string } }> {
  const max = call.deps.maxObjectBytes;
  const size = declaredSize(call.req);
  if (size !== undefined && size > max) throw tooLarge(max);
  // The checksum and Content-MD5 are computed where the writer computes the MD5 (off the
  // request's thread for a large body) and checked before the object is kept.
  const payload = verifiedPayload(call.req, call.req.headers, call.chain, {
    consumerDigests: true,
  });
  try {
    const written = await call.deps.files.write(payload.stream, max, {
      ...(payload.consumerChecksum ? { checksum: payload.consumerChecksum } : {}),
      check: (digests) => payload.verifyDigests(digests),
    });
    const checksum = payload.checksum();
    return checksum ? { written, checksum } : { written };
  } catch (error) {
    if (error instanceof BlobTooLargeError) throw tooLarge(max);
    throw error;
  }
}

function tooLarge(max: number) {
  const error = s3Errors.entityTooLarge(max);
  // The connection is closed rather than drained of what may be gigabytes.
  error.headers.connection = 'close';
  return error;
}

/** Commits the row, then removes the bytes it replaced; a vanished bucket drops the new bytes. */
export async function storeObject(call: Pick<S3Call, 'deps'>, row: ObjectRow): Promise<void> {
  const outcome = await call.deps.meta.putObject(row);
  if (!outcome.stored) {
    await call.deps.files.remove(row.blobId);
    throw s3Errors.noSuchBucket(row.bucket);
  }
  if (outcome.replaced) await call.deps.files.remove(outcome.replaced);
}

/** The object's row, or NoSuchKey / NoSuchBucket for whichever is missing. */
export async function findObject(call: ObjectCall): Promise<ObjectRow> {
  checkKey(call.key);
  const row = await call.deps.meta.findObject(call.bucket, call.key);
  if (row) return row;
  await requireBucket(call);
  throw s3Errors.noSuchKey(call.key);
}

export async function getObject(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  const row = await findObject(call);
  const headers = objectHeaders(row, call.query);
  if (checkPreconditions(call.req.headers, row) === 'not-modified') {
    return { status: 304, headers: { etag: row.etag, 'last-modified': headers['last-modified'] } };
  }
  const rangeHeader = call.req.headers.range;
  const range = parseRange(rangeHeader, row.size);
  if (range) {
    return {
      status: 206,
      headers: {
        ...headers,
        'content-length': range.end - range.start + 1,
        'content-range': `bytes ${range.start}-${range.end}/${row.size}`,
      },
      body: objectBody(call, row.blobId, range),
    };
  }
  return {
    headers: { ...headers, 'content-length': row.size, ...checksumHeaders(call, row) },
    body:
      row.size === 0
        ? Buffer.alloc(0)
        : objectBody(call, row.blobId, { start: 0, end: row.size - 1 }),
  };
}

/** The bytes of a GetObject answer: sent by the storage itself where it can, else streamed. */
function objectBody(call: S3Call, blobId: string, range: ByteRange): RestXmlResponse['body'] {
  const files = call.deps.files;
  const sendTo = files.sendTo?.bind(files);
  if (sendTo) return { writeTo: (res) => sendTo(blobId, range, res) };
  return files.read(blobId, range);
}

export async function headObject(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  const row = await findObject(call);
  const headers = objectHeaders(row, call.query);
  if (checkPreconditions(call.req.headers, row) === 'not-modified') {
    return { status: 304, headers: { etag: row.etag, 'last-modified': headers['last-modified'] } };
  }
  const range = parseRange(call.req.headers.range, row.size);
  if (range) {
    return {
      status: 206,
      headers: {
        ...headers,
        'content-length': range.end - range.start + 1,
        'content-range': `bytes ${range.start}-${range.end}/${row.size}`,
      },
    };
  }
  return { headers: { ...headers, 'content-length': row.size, ...checksumHeaders(call, row) } };
}

/** The stored checksum of a whole object, when the client asks for it (x-amz-checksum-mode). */
function checksumHeaders(call: S3Call, row: ObjectRow): Record<string, string> {
  if (!row.checksum || call.req.headers['x-amz-checksum-mode'] !== 'ENABLED') return {};
  return { [`x-amz-checksum-${row.checksum.name}`]: row.checksum.value };
}

export async function deleteObject(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  checkKey(call.key);
  await requireBucket(call);
  const blobId = await call.deps.meta.deleteObject(call.bucket, call.key);
  if (blobId) {
    await call.deps.files.remove(blobId);
    // Only a removal that removed something is an event.
    await objectChanged(call, {
      bucket: call.bucket,
      key: call.key,
      eventName: 'ObjectRemoved:Delete',
      at: call.deps.clock.now(),
    });
  }
  return { status: 204 };
}
