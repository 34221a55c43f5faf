/** Publish and PublishBatch: checking a message, then fanning it out to the topic's subscribers. */
import { createHash, randomUUID } from 'node:crypto';
import { AwsError } from '../../platform/aws/aws-error.js';
import { fanOut } from './fan-out.js';
import type { MessageAttribute, Notification } from './notification.js';
import { baseUrl, type SnsCall, topicArn, topicNameOfArn } from './sns-call.js';
import { snsErrors } from './sns-errors.js';
import { entryList, type Input, optionalString, requiredString } from './sns-input.js';
import type { TopicRow } from './sns-store.js';
import { requireTopic } from './topic-operations.js';

/** A message with its attributes, and a whole batch, as on SNS. */
export const maxMessageBytes = 262_144;

let lastSequence = 0n;

export async function publish(call: SnsCall): Promise<object> {
  if (call.input.PhoneNumber !== undefined) {
    throw snsErrors.invalidParameter('PhoneNumber Reason: Nimbus does not send SMS');
  }
  const field = call.input.TopicArn === undefined ? 'TargetArn' : 'TopicArn';
  const topic = await requireTopic(call, field);
  const prepared = prepare(call, topic, call.input);
  await deliverAll(call, topic, [prepared]);
  return {
    MessageId: prepared.notification.messageId,
    ...(prepared.notification.sequenceNumber
      ? { SequenceNumber: prepared.notification.sequenceNumber }
      : {}),
  };
}

export async function publishBatch(call: SnsCall): Promise<object> {
  const topic = await requireTopic(call);
  const entries = entryList(call.input, 'PublishBatchRequestEntries');
  if (entries.length === 0) throw snsErrors.emptyBatch();
  if (entries.length > 10) throw snsErrors.tooManyEntries();
  const ids = new Set<string>();
  let total = 0;
  for (const entry of entries) {
    const id = entry.Id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw snsErrors.invalidBatchEntryId();
    }
    if (ids.has(id)) throw snsErrors.idsNotDistinct();
    ids.add(id);
    total += typeof entry.Message === 'string' ? Buffer.byteLength(entry.Message) : 0;
    total += attributesSize(entry.MessageAttributes);
  }
  if (total > maxMessageBytes) throw snsErrors.batchTooLong();
  const Successful: object[] = [];
  const Failed: object[] = [];
  const accepted: Prepared[] = [];
  for (const entry of entries) {
    try {
      const prepared = prepare(call, topic, entry);
      accepted.push(prepared);
      Successful.push({
        Id: entry.Id,
        MessageId: prepared.notification.messageId,
        ...(prepared.notification.sequenceNumber
          ? { SequenceNumber: prepared.notification.sequenceNumber }
          : {}),
      });
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      Failed.push({
        Id: entry.Id,
        Code: error.awsCode,
        Message: error.message,
        SenderFault: true,
      });
    }
  }
  await deliverAll(call, topic, accepted);
  return { Successful, Failed };
}

interface Prepared {
  notification: Notification;
  messageFor: (protocol: string) => string;
}

async function deliverAll(call: SnsCall, topic: TopicRow, messages: Prepared[]): Promise<void> {
  if (messages.length === 0) return;
  const subscriptions = await call.deps.store.listSubscriptions(topic.name);
  const ctx = { deliveries: call.deps.deliveries, baseUrl: baseUrl(call.req) };
  for (const m of messages) await fanOut(ctx, subscriptions, m.notification, m.messageFor);
}

function prepare(call: SnsCall, topic: TopicRow, input: Input): Prepared {
  const message = requiredString(input, 'Message');
  const subject = optionalString(input, 'Subject');
  if (subject !== undefined && (subject.length > 100 || /[\p{Cc}]/u.test(subject))) {
    throw snsErrors.invalidParameter(
      'Subject Reason: at most 100 printable characters, no line breaks',
    );
  }
  const messageAttributes = readAttributes(input.MessageAttributes);
  if (Buffer.byteLength(message) + attributesSize(messageAttributes) > maxMessageBytes) {
    throw snsErrors.tooLong();
  }
  const messageFor = structuredMessages(message, optionalString(input, 'MessageStructure'));
  const fifo = topic.attributes.FifoTopic === 'true';
  const groupId = optionalString(input, 'MessageGroupId');
  let dedupId = optionalString(input, 'MessageDeduplicationId');
  if (fifo) {
    if (groupId === undefined) {
      throw snsErrors.invalidParameter('The MessageGroupId parameter is required for FIFO topics');
    }
    if (dedupId === undefined) {
      if (topic.attributes.ContentBasedDeduplication !== 'true') {
        throw snsErrors.invalidParameter(
          'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      dedupId = createHash('sha256').update(message, 'utf8').digest('hex');
    }
  } else if (dedupId !== undefined) {
    throw snsErrors.invalidParameter(
      'MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
    );
  }
  const now = call.deps.clock.now();
  return {
    notification: {
      messageId: randomUUID(),
      topicArn: topicArn(call.deps.region, topic.name),
      ...(subject !== undefined ? { subject } : {}),
      message,
      timestamp: now,
      messageAttributes,
      ...(fifo ? { groupId, dedupId, sequenceNumber: nextSequence(now) } : {}),
    },
    messageFor,
  };
}

/** Strictly increasing, 20 digits, as SNS FIFO sequence numbers look. */
function nextSequence(now: number): string {
  const candidate = BigInt(now) * 1_000_000n;
  lastSequence = candidate > lastSequence ? candidate : lastSequence + 1n;
  return lastSequence.toString().padStart(20, '0');
}

/** `MessageStructure: json`: one message per protocol, `default` for the rest. */
function structuredMessages(message: string, structure: string | undefined) {
  if (structure === undefined) return () => message;
  if (structure !== 'json') {
    throw snsErrors.invalidParameter('MessageStructure Reason: must be json');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw snsErrors.invalidParameter('Message Structure - Failed to parse JSON');
  }
  const byProtocol = parsed as Record<string, unknown>;
  if (typeof parsed !== 'object' || parsed === null || typeof byProtocol.default !== 'string') {
    throw snsErrors.invalidParameter('Message Structure - No default entry in JSON message body');
  }
  return (protocol: string) => {
    const specific = byProtocol[protocol];
    return typeof specific === 'string' ? specific : (byProtocol.default as string);
  };
}

function readAttributes(raw: unknown): Record<string, MessageAttribute> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw snsErrors.invalidParameter('MessageAttributes must be a map');
  }
  const out: Record<string, MessageAttribute> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const bad = (why: string) =>
      snsErrors.invalidParameter(`The message attribute '${name}' ${why}`);
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      name.startsWith('AWS.') ||
      name.startsWith('Amazon.')
    ) {
      throw bad('has an invalid name');
    }
    const v = (value ?? {}) as Record<string, unknown>;
    const type = v.DataType;
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$/.test(type)) {
      throw bad('must have a DataType of String, Number, Binary or String.Array');
    }
    if (type.startsWith('Binary')) {
      if (typeof v.BinaryValue !== 'string') throw bad('must contain a non-empty binary value');
      out[name] = { DataType: type, BinaryValue: v.BinaryValue };
      continue;
    }
    if (typeof v.StringValue !== 'string' || v.StringValue === '') {
      throw bad('must contain a non-empty message attribute value');
    }
    if (type.startsWith('Number') && !Number.isFinite(Number(v.StringValue))) {
      throw bad(
        `has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    if (type === 'String.Array') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v.StringValue);
      } catch {
        throw bad('must be a JSON array for String.Array');
      }
      if (!Array.isArray(parsed)) throw bad('must be a JSON array for String.Array');
    }
    out[name] = { DataType: type, StringValue: v.StringValue };
  }
  return out;
}

function attributesSize(raw: unknown): number {
  if (typeof raw !== 'object' || raw === null) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const v = (value ?? {}) as Record<string, unknown>;
    size += Buffer.byteLength(name);
    for (const field of ['DataType', 'StringValue', 'BinaryValue']) {
      if (typeof v[field] === 'string') size += Buffer.byteLength(v[field] as string);
    }
  }
  return size;
}

/**
 * Publishes on behalf of the platform (async destinations, EventBridge targets): the message
 * as a plain `Publish` would carry it, fanned out the same way. Throws when the topic is gone.
 */
export async function publishToTopic(
  deps: SnsCall['deps'],
  topicArnText: string,
  message: string,
  baseUrlText: string,
  /** As a Publish's MessageAttributes (a dead-letter send's RequestID, ErrorCode, ErrorMessage). */
  messageAttributes: Notification['messageAttributes'] = {},
): Promise<string> {
  const name = topicNameOfArn(topicArnText);
  const topic = await deps.store.findTopic(name);
  if (!topic) throw snsErrors.topicNotFound();
  if (Buffer.byteLength(message) > maxMessageBytes) throw snsErrors.tooLong();
  const fifo = topic.attributes.FifoTopic === 'true';
  const now = deps.clock.now();
  const notification: Notification = {
    messageId: randomUUID(),
    topicArn: topicArn(deps.region, name),
    message,
    timestamp: now,
    messageAttributes,
    ...(fifo
      ? {
          groupId: 'nimbus',
          dedupId: createHash('sha256').update(message, 'utf8').digest('hex'),
          sequenceNumber: nextSequence(now),
        }
      : {}),
  };
  const subscriptions = await deps.store.listSubscriptions(name);
  await fanOut(
    { deliveries: deps.deliveries, baseUrl: baseUrlText },
    subscriptions,
    notification,
    () => message,
  );
  return notification.messageId;
}
