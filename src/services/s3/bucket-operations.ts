/** ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */
import { ownerOfScope, scopeAllowsResource } from '../../platform/auth/access-key-store.js';
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { childElement, textNode } from '../../platform/aws/protocols/xml.js';
import { isValidBucketName } from './bucket-name.js';
import {
  type BucketCall,
  drain,
  owner,
  readXmlBody,
  requireBucket,
  type S3Call,
  s3Namespace,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';

export async function listBuckets(call: S3Call): Promise<RestXmlResponse> {
  drain(call.req);
  // A restricted caller sees its own stage's buckets and the shared ones.
  const buckets = (await call.deps.meta.listBuckets()).filter((b) =>
    scopeAllowsResource(call.scope, b.owner, false),
  );
  return {
    body: {
      name: 'ListAllMyBucketsResult',
      attrs: { xmlns: s3Namespace },
      children: [
        {
          name: 'Owner',
          children: [textNode('ID', owner.id), textNode('DisplayName', owner.displayName)],
        },
        {
          name: 'Buckets',
          children: buckets.map((b) => ({
            name: 'Bucket',
            children: [
              textNode('Name', b.name),
              textNode('CreationDate', new Date(b.createdAt).toISOString()),
              textNode('BucketRegion', b.region),
            ],
          })),
        },
      ],
    },
  };
}

export async function createBucket(call: BucketCall): Promise<RestXmlResponse> {
  if (!isValidBucketName(call.bucket)) {
    drain(call.req);
    throw s3Errors.invalidBucketName(call.bucket);
  }
  const config = await readXmlBody(call);
  const constraint = config && childElement(config, 'LocationConstraint')?.text.trim();
  // Session credentials create their own stage's bucket; unscoped keys a shared one.
  const owner = ownerOfScope(call.scope);
  const created = await call.deps.meta.createBucket({
    name: call.bucket,
    region: constraint || call.deps.region,
    createdAt: call.deps.clock.now(),
    ...(owner ? { owner } : {}),
  });
  // One owner per platform: every existing bucket is already the caller's.
  if (!created) throw s3Errors.bucketAlreadyOwnedByYou(call.bucket);
  return { headers: { location: `/${call.bucket}` } };
}

export async function headBucket(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const bucket = await requireBucket(call);
  return { headers: { 'x-amz-bucket-region': bucket.region } };
}

export async function deleteBucket(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const { outcome, blobIds } = await call.deps.meta.deleteBucket(call.bucket);
  if (outcome === 'missing') throw s3Errors.noSuchBucket(call.bucket);
  if (outcome === 'not-empty') throw s3Errors.bucketNotEmpty(call.bucket);
  await Promise.all(blobIds.map((id) => call.deps.files.remove(id)));
  return { status: 204 };
}

export async function getBucketLocation(call: BucketCall): Promise<RestXmlResponse> {
  drain(call.req);
  const bucket = await requireBucket(call);
  // us-east-1 is written as an empty constraint, as S3 does.
  const region = bucket.region === 'us-east-1' ? '' : bucket.region;
  return { body: { name: 'LocationConstraint', attrs: { xmlns: s3Namespace }, text: region } };
}
