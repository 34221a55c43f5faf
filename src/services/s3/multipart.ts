/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, Abort,
 * ListParts, ListMultipartUploads. Parts are blobs of their own; completing composes the object's
 * blob of them (ObjectFiles: a manifest, no byte copied) or, where the storage cannot, streams them
 * into a new blob. The object's ETag is S3's `"<md5 of part md5s>-<N>"`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { childElement, childElements, textNode } from '../../platform/aws/protocols/xml.js';
import { parseCopySource } from './copy-object.js';
import type { ObjectStorage, WrittenBlob } from './object-files.js';
import { storedHeaders, userMetadata } from './object-headers.js';
import { findObject, writeBody } from './object-operations.js';
import { checkPreconditions } from './preconditions.js';
import {
  type BucketCall,
  checkKey,
  drain,
  type ObjectCall,
  objectChanged,
  owner,
  readXmlBody,
  requireBucket,
  s3Namespace,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { PartRow, UploadRow } from './s3-metadata.js';

/** S3's limits: parts 1..10,000, every part but the last at least 5 MiB, objects up to 5 TiB. */
const maxPartNumber = 10_000;
const minPartBytes = 5 * 1024 * 1024;
const maxObjectBytes = 5 * 1024 ** 4;

export async function createMultipartUpload(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  checkKey(call.key);
  const upload: UploadRow = {
    id: randomBytes(24).toString('base64url'),
    bucket: call.bucket,
    key: call.key,
    initiatedAt: call.deps.clock.now(),
    headers: storedHeaders(call.req.headers),
    userMetadata: userMetadata(call.req.headers),
  };
  if (!(await call.deps.meta.createUpload(upload))) throw s3Errors.noSuchBucket(call.bucket);
  return {
    body: {
      name: 'InitiateMultipartUploadResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('Bucket', call.bucket),
        textNode('Key', call.key),
        textNode('UploadId', upload.id),
      ],
    },
  };
}

async function requireUpload(call: ObjectCall): Promise<UploadRow> {
  const id = call.query.get('uploadId') ?? '';
  const upload = await call.deps.meta.findUpload(id);
  if (!upload || upload.bucket !== call.bucket || upload.key !== call.key) {
    await requireBucket(call);
    throw s3Errors.noSuchUpload(id);
  }
  return upload;
}

export async function uploadPart(call: ObjectCall): Promise<RestXmlResponse> {
  const partNumber = partNumberOf(call);
  const upload = await requireUpload(call).catch((error: unknown) => {
    drain(call.req);
    throw error;
  });
  const { written, checksum } = await writeBody(call);
  const etag = `"${written.md5Hex}"`;
  await storePart(call, upload.id, partNumber, written, etag);
  return {
    headers: {
      etag,
      ...(checksum ? { [`x-amz-checksum-${checksum.name}`]: checksum.value } : {}),
    },
  };
}

/**
 * UploadPartCopy: the part's bytes are (a range of) an existing object, streamed from its file
 * into the part's own, so a part copied from a large object is never held in memory.
 */
export async function uploadPartCopy(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  const partNumber = partNumberOf(call);
  const source = parseCopySource(String(call.req.headers['x-amz-copy-source']));
  const upload = await requireUpload(call);
  const from = await findObject({ ...call, bucket: source.bucket, key: source.key });
  checkPreconditions(call.req.headers, from, 'x-amz-copy-source-');
  const range = copySourceRange(call.req.headers['x-amz-copy-source-range'], from.size);
  const size = range ? range.end - range.start + 1 : from.size;
  if (size > call.deps.maxObjectBytes) throw s3Errors.entityTooLarge(call.deps.maxObjectBytes);
  const bytes: AsyncIterable<Buffer> =
    size === 0 ? (async function* () {})() : call.deps.files.read(from.blobId, range);
  const written = await call.deps.files.write(bytes, call.deps.maxObjectBytes);
  const etag = `"${written.md5Hex}"`;
  const lastModified = await storePart(call, upload.id, partNumber, written, etag);
  return {
    body: {
      name: 'CopyPartResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('LastModified', new Date(lastModified).toISOString()),
        textNode('ETag', etag),
      ],
    },
  };
}

/** `bytes=first-last`, both inclusive and inside the source, as UploadPartCopy requires. */
function copySourceRange(
  header: string | string[] | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const text = String(header);
  const m = /^bytes=(\d+)-(\d+)$/.exec(text.trim());
  if (!m) {
    throw s3Errors.invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and ' +
        'last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      text,
    );
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end >= size) {
    throw s3Errors.invalidRequest(
      `The specified copy source range ${text} is not valid for the source object of size ${size}`,
    );
  }
  return { start, end };
}

function partNumberOf(call: ObjectCall): number {
  const text = call.query.get('partNumber') ?? '';
  const partNumber = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (partNumber < 1 || partNumber > maxPartNumber) {
    drain(call.req);
    throw s3Errors.invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      text,
    );
  }
  return partNumber;
}

/** Records the part (replacing an earlier upload of its number); answers its time. */
async function storePart(
  call: ObjectCall,
  uploadId: string,
  partNumber: number,
  written: WrittenBlob,
  etag: string,
): Promise<number> {
  const lastModified = call.deps.clock.now();
  const outcome = await call.deps.meta.putPart({
    uploadId,
    partNumber,
    blobId: written.blobId,
    size: written.size,
    etag,
    lastModified,
  });
  if (!outcome.stored) {
    await call.deps.files.remove(written.blobId);
    throw s3Errors.noSuchUpload(uploadId);
  }
  if (outcome.replaced) await call.deps.files.remove(outcome.replaced);
  return lastModified;
}

export async function completeMultipartUpload(call: ObjectCall): Promise<RestXmlResponse> {
  const doc = await readXmlBody(call);
  if (doc?.name !== 'CompleteMultipartUpload') throw s3Errors.malformedXml();
  const requested = childElements(doc, 'Part').map((p) => ({
    partNumber: Number(childElement(p, 'PartNumber')?.text.trim()),
    etag: childElement(p, 'ETag')?.text.trim().replace(/^"|"$/g, '') ?? '',
  }));
  if (requested.length === 0) throw s3Errors.malformedXml();
  for (let i = 1; i < requested.length; i++) {
    if (!(requested[i]!.partNumber > requested[i - 1]!.partNumber))
      throw s3Errors.invalidPartOrder();
  }
  const upload = await requireUpload(call);
  const stored = new Map((await call.deps.meta.listParts(upload.id)).map((p) => [p.partNumber, p]));
  const parts = requested.map((r) => {
    const part = stored.get(r.partNumber);
    if (!part || part.etag !== `"${r.etag}"`) throw s3Errors.invalidPart();
    return part;
  });
  parts.forEach((part, i) => {
    if (i < parts.length - 1 && part.size < minPartBytes) throw s3Errors.entityTooSmall();
  });

  const files = call.deps.files;
  const written = await composeParts(files, parts);
  const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
  const completedAt = call.deps.clock.now();
  const outcome = await call.deps.meta.completeUpload(
    upload.id,
    {
      bucket: call.bucket,
      key: call.key,
      blobId: written.blobId,
      size: written.size,
      etag,
      lastModified: completedAt,
      headers: upload.headers,
      userMetadata: upload.userMetadata,
    },
    written.keptParts,
  );
  if (!outcome.stored) {
    // Only the composite's manifest: its parts are still the upload's (or already replaced).
    await (written.keptParts.length > 0 && files.uncompose
      ? files.uncompose(written.blobId)
      : files.remove(written.blobId));
    throw outcome.partsChanged ? s3Errors.invalidPart() : s3Errors.noSuchUpload(upload.id);
  }
  await Promise.all(outcome.unreferenced.map((id) => files.remove(id)));
  await objectChanged(call, {
    bucket: call.bucket,
    key: call.key,
    eventName: 'ObjectCreated:CompleteMultipartUpload',
    size: written.size,
    etag,
    at: completedAt,
  });
  return {
    body: {
      name: 'CompleteMultipartUploadResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('Location', `/${call.bucket}/${encodeURIComponent(call.key)}`),
        textNode('Bucket', call.bucket),
        textNode('Key', call.key),
        textNode('ETag', etag),
      ],
    },
  };
}

/**
 * The object's blob: composed of the part blobs where the storage can (no byte copied; the parts
 * become the object's, `keptParts`), else a new blob the parts' bytes are streamed into.
 */
async function composeParts(
  files: ObjectStorage,
  parts: readonly PartRow[],
): Promise<{ blobId: string; size: number; keptParts: string[] }> {
  const size = parts.reduce((sum, part) => sum + part.size, 0);
  if (size > maxObjectBytes) throw s3Errors.entityTooLarge(maxObjectBytes);
  if (files.compose) {
    const blobId = await files.compose(parts);
    return { blobId, size, keptParts: parts.map((part) => part.blobId) };
  }
  async function* concatenated(): AsyncGenerator<Buffer> {
    for (const part of parts) yield* files.read(part.blobId);
  }
  const written = await files.write(concatenated(), maxObjectBytes);
  return { blobId: written.blobId, size: written.size, keptParts: [] };
}

export async function abortMultipartUpload(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  const upload = await requireUpload(call);
  const blobIds = await call.deps.meta.deleteUpload(upload.id);
  if (blobIds === undefined) throw s3Errors.noSuchUpload(upload.id);
  await Promise.all(blobIds.map((id) => call.deps.files.remove(id)));
  return { status: 204 };
}

export async function listParts(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  const upload = await requireUpload(call);
  const maxParts = Math.min(Number(call.query.get('max-parts') ?? 1000) || 1000, 1000);
  const marker = Number(call.query.get('part-number-marker') ?? 0) || 0;
  const all = (await call.deps.meta.listParts(upload.id)).filter((p) => p.partNumber > marker);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  return {
    body: {
      name: 'ListPartsResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('Bucket', call.bucket),
        textNode('Key', call.key),
        textNode('UploadId', upload.id),
        textNode('PartNumberMarker', marker),
        textNode('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
        textNode('MaxParts', maxParts),
        textNode('IsTruncated', truncated),
        ownerNode('Initiator'),
        ownerNode('Owner'),
        textNode('StorageClass', 'STANDARD'),
        ...page.map((p) => ({
          name: 'Part',
          children: [
            textNode('PartNumber', p.partNumber),
            textNode('LastModified', new Date(p.lastModified).toISOString()),
            textNode('ETag', p.etag),
            textNode('Size', p.size),
          ],
        })),
      ],
    },
  };
}

export async function listMultipartUploads(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  await requireBucket(call);
  const maxUploads = Math.min(Number(call.query.get('max-uploads') ?? 1000) || 1000, 1000);
  const prefix = call.query.get('prefix') ?? '';
  const uploads = await call.deps.meta.listUploads(call.bucket, prefix, maxUploads + 1);
  const page = uploads.slice(0, maxUploads);
  return {
    body: {
      name: 'ListMultipartUploadsResult',
      attrs: { xmlns: s3Namespace },
      children: [
        textNode('Bucket', call.bucket),
        textNode('KeyMarker', ''),
        textNode('UploadIdMarker', ''),
        textNode('Prefix', prefix),
        textNode('MaxUploads', maxUploads),
        textNode('IsTruncated', uploads.length > page.length),
        ...page.map((u) => ({
          name: 'Upload',
          children: [
            textNode('Key', u.key),
            textNode('UploadId', u.id),
            ownerNode('Initiator'),
            ownerNode('Owner'),
            textNode('StorageClass', 'STANDARD'),
            textNode('Initiated', new Date(u.initiatedAt).toISOString()),
          ],
        })),
      ],
    },
  };
}

function ownerNode(name: string) {
  return { name, children: [textNode('ID', owner.id), textNode('DisplayName', owner.displayName)] };
}
