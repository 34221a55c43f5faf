/** DeleteObjects: up to 1,000 keys in an XML body, Quiet to answer with errors only. */
import type { RestXmlResponse } from '../../platform/aws/protocols/rest-xml.js';
import { childElement, childElements, textNode } from '../../platform/aws/protocols/xml.js';
import {
  type BucketCall,
  maxKeyBytes,
  objectChanged,
  readXmlBody,
  requireBucket,
  s3Namespace,
} from './s3-call.js';
import { s3Errors } from './s3-errors.js';

const maxKeysPerRequest = 1000;

export async function deleteObjects(call: BucketCall): Promise<RestXmlResponse> {
  const doc = await readXmlBody(call);
  if (doc?.name !== 'Delete') throw s3Errors.malformedXml();
  const objects = childElements(doc, 'Object');
  if (objects.length === 0 || objects.length > maxKeysPerRequest) throw s3Errors.malformedXml();
  const quiet = childElement(doc, 'Quiet')?.text.trim() === 'true';
  await requireBucket(call);

  const results = [];
  for (const object of objects) {
    const key = childElement(object, 'Key')?.text;
    if (key === undefined) throw s3Errors.malformedXml();
    if (Buffer.byteLength(key) > maxKeyBytes) {
      results.push({
        name: 'Error',
        children: [
          textNode('Key', key),
          textNode('Code', 'KeyTooLongError'),
          textNode('Message', 'Your key is too long'),
        ],
      });
      continue;
    }
    const blobId = await call.deps.meta.deleteObject(call.bucket, key);
    if (blobId) {
      await call.deps.files.remove(blobId);
      await objectChanged(call, {
        bucket: call.bucket,
        key,
        eventName: 'ObjectRemoved:Delete',
        at: call.deps.clock.now(),
      });
    }
    if (!quiet) results.push({ name: 'Deleted', children: [textNode('Key', key)] });
  }
  return { body: { name: 'DeleteResult', attrs: { xmlns: s3Namespace }, children: results } };
}
