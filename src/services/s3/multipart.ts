/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, Abort,
 * ListParts, ListMultipartUploads. Parts are blobs of their own; completing concatenates them
 * into the object's blob (streamed) and the object's ETag is S3's `"<md5 of part md5s>-<N>"`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { childElement, childElements, textNode } from '../../platform/aws/protocols/xml.js';
import { storedHeaders, userMetadata } from './object-headers.js';
import { writeBody } from './object-operations.js';
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
import type { UploadRow } from './s3-metadata.js';

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
  const upload = await requireUpload(call).catch((error: unknown) => {
    drain(call.req);
    throw error;
  });
  const { written, checksum } = await writeBody(call);
  const etag = `"${written.md5Hex}"`;
  const outcome = await call.deps.meta.putPart({
    uploadId: upload.id,
    partNumber,
    blobId: written.blobId,
    size: written.size,
    etag,
    lastModified: call.deps.clock.now(),
  });
  if (!outcome.stored) {
    await call.deps.files.remove(written.blobId);
    throw s3Errors.noSuchUpload(upload.id);
  }
  if (outcome.replaced) await call.deps.files.remove(outcome.replaced);
  return {
    headers: {
      etag,
      ...(checksum ? { [`x-amz-checksum-${checksum.name}`]: checksum.value } : {}),
    },
  };
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
  async function* concatenated(): AsyncGenerator<Buffer> {
    for (const part of parts) yield* files.read(part.blobId);
  }
  const written = await files.write(concatenated(), maxObjectBytes);
  const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag.replace(/"/g, ''), 'hex')));
  const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
  const completedAt = call.deps.clock.now();
  const outcome = await call.deps.meta.completeUpload(upload.id, {
    bucket: call.bucket,
    key: call.key,
    blobId: written.blobId,
    size: written.size,
    etag,
    lastModified: completedAt,
    headers: upload.headers,
    userMetadata: upload.userMetadata,
  });
  if (!outcome.stored) {
    await files.remove(written.blobId);
    throw s3Errors.noSuchUpload(upload.id);
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
