/** PutObjectTagging, GetObjectTagging, DeleteObjectTagging, and the x-amz-tagging header. */
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { childElement, childElements, textNode } from '../../platform/aws/protocols/xml.js';
import {
  checkKey,
  drain,
  type ObjectCall,
  objectChanged,
  readXmlBody,
  requireBucket,
  s3Namespace,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';
import type { Tag } from './s3-metadata.js';

/** S3's limits on object tags. */
const maxTags = 10;
const maxTagKeyLength = 128;
const maxTagValueLength = 256;

export function validateTags(tags: Tag[]): Tag[] {
  if (tags.length > maxTags) throw s3Errors.invalidTag('Object tags cannot be greater than 10');
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.Key === '' || [...tag.Key].length > maxTagKeyLength) {
      throw s3Errors.invalidTag('The TagKey you have provided is invalid');
    }
    if ([...tag.Value].length > maxTagValueLength) {
      throw s3Errors.invalidTag('The TagValue you have provided is invalid');
    }
    if (seen.has(tag.Key))
      throw s3Errors.invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(tag.Key);
  }
  return tags;
}

/** `x-amz-tagging: k1=v1&k2=v2` (URL query form), as PutObject and CreateMultipartUpload take it. */
export function tagsFromHeader(header: string | string[] | undefined): Tag[] | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  const tags = [...new URLSearchParams(header)].map(([Key, Value]) => ({ Key, Value }));
  return validateTags(tags);
}

export async function putObjectTagging(call: ObjectCall): Promise<RestXmlResponse> {
  checkKey(call.key);
  const doc = await readXmlBody(call);
  const tagSet = doc && childElement(doc, 'TagSet');
  if (doc?.name !== 'Tagging' || !tagSet) throw s3Errors.malformedXml();
  const tags = validateTags(
    childElements(tagSet, 'Tag').map((t) => ({
      Key: childElement(t, 'Key')?.text ?? '',
      Value: childElement(t, 'Value')?.text ?? '',
    })),
  );
  await requireBucket(call);
  if (!(await call.deps.meta.setTags(call.bucket, call.key, tags))) {
    throw s3Errors.noSuchKey(call.key);
  }
  await tagsChanged(call, 'ObjectTagging:Put');
  return {};
}

/** Tag changes are events too (`s3:ObjectTagging:*` configurations, EventBridge). */
function tagsChanged(call: ObjectCall, eventName: string): Promise<void> {
  return objectChanged(call, {
    bucket: call.bucket,
    key: call.key,
    eventName,
    at: call.deps.clock.now(),
  });
}

export async function getObjectTagging(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  await requireBucket(call);
  const row = await call.deps.meta.findObject(call.bucket, call.key);
  if (!row) throw s3Errors.noSuchKey(call.key);
  return {
    body: {
      name: 'Tagging',
      attrs: { xmlns: s3Namespace },
      children: [
        {
          name: 'TagSet',
          children: (row.tags ?? []).map((t) => ({
            name: 'Tag',
            children: [textNode('Key', t.Key), textNode('Value', t.Value)],
          })),
        },
      ],
    },
  };
}

export async function deleteObjectTagging(call: ObjectCall): Promise<RestXmlResponse> {
  drain(call.req);
  await requireBucket(call);
  if (!(await call.deps.meta.setTags(call.bucket, call.key, undefined))) {
    throw s3Errors.noSuchKey(call.key);
  }
  await tagsChanged(call, 'ObjectTagging:Delete');
  return { status: 204 };
}
