/** Creating, finding, listing, configuring and removing queues. */
import {
  checkAttributes,
  checkQueueName,
  computedAttributes,
  defaultAttributes,
  queueArn,
} from './queue-attributes.js';
import { type QueueCall, queueUrl, requireQueue, type SqsCall } from './sqs-call.js';
import { sqsErrors } from './sqs-errors.js';
import {
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
  stringMap,
} from './sqs-input.js';

export async function createQueue(call: SqsCall): Promise<object> {
  const name = requiredString(call.input, 'QueueName');
  const given = stringMap(call.input, 'Attributes');
  const fifo = given.FifoQueue === 'true' || name.endsWith('.fifo');
  checkQueueName(name, fifo);
  checkAttributes(given, fifo, true);
  const attributes = { ...defaultAttributes(fifo), ...given };
  const now = call.deps.clock.now();
  const created = await call.deps.store.createQueue({
    name,
    attributes,
    createdAt: now,
    modifiedAt: now,
  });
  if (!created) {
    // Creating an existing queue again is fine when the attributes asked for agree.
    const existing = await call.deps.store.findQueue(name);
    const differs = Object.entries(given).some(([k, v]) => existing?.attributes[k] !== v);
    if (differs) throw sqsErrors.queueNameExists(name);
  }
  return { QueueUrl: queueUrl(call.req, name) };
}

export async function getQueueUrl(call: SqsCall): Promise<object> {
  const name = requiredString(call.input, 'QueueName');
  const owner = optionalString(call.input, 'QueueOwnerAWSAccountId');
  const queue = await call.deps.store.findQueue(name);
  if (!queue || (owner !== undefined && owner !== '000000000000')) {
    throw sqsErrors.queueDoesNotExist();
  }
  return { QueueUrl: queueUrl(call.req, name) };
}

export async function listQueues(call: SqsCall): Promise<object> {
  const prefix = optionalString(call.input, 'QueueNamePrefix') ?? '';
  const max = optionalInteger(call.input, 'MaxResults', 1, 1000);
  const token = optionalString(call.input, 'NextToken');
  const all = (await call.deps.store.listQueues(prefix)).map((q) => q.name);
  const start = token === undefined ? 0 : all.findIndex((n) => n > decodeToken(token));
  const from = start < 0 ? all.length : start;
  const page = all.slice(from, max === undefined ? from + 1000 : from + max);
  const more = max !== undefined && from + page.length < all.length;
  return {
    ...(page.length > 0 ? { QueueUrls: page.map((n) => queueUrl(call.req, n)) } : {}),
    ...(more ? { NextToken: Buffer.from(page[page.length - 1]!).toString('base64url') } : {}),
  };
}

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  if (name === '') throw sqsErrors.invalidParameter('Invalid NextToken value.');
  return name;
}

export async function getQueueAttributes(call: QueueCall): Promise<object> {
  const queue = await requireQueue(call);
  const names = stringList(call.input, 'AttributeNames');
  const now = call.deps.clock.now();
  const counts = await call.deps.store.counts(call.queue, now);
  const all: Record<string, string> = {
    ...queue.attributes,
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    LastModifiedTimestamp: String(Math.floor(queue.modifiedAt / 1000)),
    QueueArn: queueArn(call.deps.region, queue.name),
  };
  const known = new Set([
    ...Object.keys(defaultAttributes(true)),
    ...computedAttributes,
    'RedrivePolicy',
    'Policy',
    'RedriveAllowPolicy',
    'KmsMasterKeyId',
    'KmsDataKeyReusePeriodSeconds',
  ]);
  const Attributes: Record<string, string> = {};
  for (const name of names) {
    if (name === 'All') Object.assign(Attributes, all);
    else if (!known.has(name)) throw sqsErrors.invalidAttributeName(name);
    else if (all[name] !== undefined) Attributes[name] = all[name];
  }
  return Object.keys(Attributes).length > 0 ? { Attributes } : {};
}

export async function setQueueAttributes(call: QueueCall): Promise<object> {
  const queue = await requireQueue(call);
  const given = stringMap(call.input, 'Attributes');
  checkAttributes(given, queue.attributes.FifoQueue === 'true', false);
  const attributes = { ...queue.attributes, ...given };
  if (attributes.RedrivePolicy === '') delete attributes.RedrivePolicy;
  await call.deps.store.setAttributes(call.queue, attributes, call.deps.clock.now());
  return {};
}

export async function deleteQueue(call: QueueCall): Promise<object> {
  await requireQueue(call);
  await call.deps.store.deleteQueue(call.queue);
  return {};
}

export async function purgeQueue(call: QueueCall): Promise<object> {
  await requireQueue(call);
  await call.deps.store.purge(call.queue);
  return {};
}
