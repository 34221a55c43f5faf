/** Sending, receiving, deleting and hiding messages. */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { md5OfAttributes, md5OfBody } from './message-md5.js';
import { parseRedrivePolicy } from './queue-attributes.js';
import { type QueueCall, requireQueue } from './sqs-call.js';
import { sqsErrors } from './sqs-errors.js';
import {
  entryList,
  type Input,
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
} from './sqs-input.js';
import {
  type MessageAttributeValue,
  type MessageRow,
  messageIdOf,
  type NewMessage,
} from './sqs-store.js';

/** A batch's total payload, as on SQS. */
const maxBatchBytes = 262_144;

export async function sendMessage(call: QueueCall): Promise<object> {
  const queue = await requireQueue(call);
  const checked = checkedMessage(queue.attributes, call.input);
  const [{ id }] = (await call.deps.store.sendMany(
    call.queue,
    [checked.message],
    call.deps.clock.now(),
  )) as [{ id: string }];
  call.deps.waiters.wake(call.queue);
  return { MessageId: id, ...checked.output };
}

/** An entry checked as SQS checks it, and the message it stores; throws SQS's error. */
function checkedMessage(attributes: Record<string, string>, input: Input) {
  const body = requiredString(input, 'MessageBody');
  checkBodyCharacters(body);
  const messageAttributes = readMessageAttributes(input.MessageAttributes);
  const size = Buffer.byteLength(body, 'utf8') + attributesSize(messageAttributes);
  const maxSize = Number(attributes.MaximumMessageSize);
  if (size > maxSize) {
    throw sqsErrors.invalidParameter(
      `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`,
    );
  }
  const fifo = attributes.FifoQueue === 'true';
  const delay = optionalInteger(input, 'DelaySeconds', 0, 900);
  const groupId = optionalString(input, 'MessageGroupId');
  let dedupId = optionalString(input, 'MessageDeduplicationId');
  if (fifo) {
    if (delay !== undefined && delay > 0) {
      throw sqsErrors.invalidParameter(
        'Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
      );
    }
    if (groupId === undefined) throw sqsErrors.missingParameter('MessageGroupId');
    if (dedupId === undefined) {
      if (attributes.ContentBasedDeduplication !== 'true') {
        throw sqsErrors.invalidParameter(
          'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
      }
      dedupId = createHash('sha256').update(body, 'utf8').digest('hex');
    }
  } else if (dedupId !== undefined) {
    throw sqsErrors.invalidParameter(
      'The request include parameter MessageDeduplicationId that is not valid for this queue type',
    );
  }
  const md5Body = md5OfBody(body);
  const md5Attributes = md5OfAttributes(messageAttributes);
  const message: NewMessage = {
    body,
    messageAttributes,
    md5Body,
    ...(md5Attributes ? { md5Attributes } : {}),
    delayMs: (delay ?? Number(attributes.DelaySeconds)) * 1000,
    ...(fifo ? { groupId, dedupId } : {}),
  };
  return {
    message,
    output: {
      MD5OfMessageBody: md5Body,
      ...(md5Attributes ? { MD5OfMessageAttributes: md5Attributes } : {}),
    },
  };
}

export async function sendMessageBatch(call: QueueCall): Promise<object> {
  const queue = await requireQueue(call);
  const entries = checkBatch(call.input, 'Entries');
  const total = entries.reduce(
    (sum, e) =>
      sum +
      Buffer.byteLength(typeof e.MessageBody === 'string' ? e.MessageBody : '', 'utf8') +
      attributesSize(safeAttributes(e.MessageAttributes)),
    0,
  );
  if (total > maxBatchBytes) throw sqsErrors.batchTooLong(maxBatchBytes);
  const checked: { Id: unknown; entry: ReturnType<typeof checkedMessage> }[] = [];
  const Failed: object[] = [];
  for (const entry of entries) {
    try {
      checked.push({ Id: entry.Id, entry: checkedMessage(queue.attributes, entry) });
    } catch (error) {
      Failed.push(batchFailure(entry.Id as string, error));
    }
  }
  // The valid entries in one transaction: one commit for the batch, not one per message.
  const sent = await call.deps.store.sendMany(
    call.queue,
    checked.map((c) => c.entry.message),
    call.deps.clock.now(),
  );
  if (sent.length > 0) call.deps.waiters.wake(call.queue);
  const Successful = checked.map((c, i) => ({
    Id: c.Id,
    MessageId: sent[i]!.id,
    ...c.entry.output,
  }));
  return { Successful, Failed };
}

export async function receiveMessage(call: QueueCall): Promise<object> {
  const queue = await requireQueue(call);
  const { input, deps } = call;
  const max = optionalInteger(input, 'MaxNumberOfMessages', 1, 10) ?? 1;
  const visibility =
    optionalInteger(input, 'VisibilityTimeout', 0, 43_200) ??
    Number(queue.attributes.VisibilityTimeout);
  const waitSeconds =
    optionalInteger(input, 'WaitTimeSeconds', 0, 20) ??
    Number(queue.attributes.ReceiveMessageWaitTimeSeconds);
  const systemNames = [
    ...stringList(input, 'AttributeNames'),
    ...stringList(input, 'MessageSystemAttributeNames'),
  ];
  const attributeNames = stringList(input, 'MessageAttributeNames');
  const redrive = queue.attributes.RedrivePolicy
    ? parseRedrivePolicy(queue.attributes.RedrivePolicy)
    : undefined;
  const deadline = performance.now() + waitSeconds * 1000;
  // A client that goes away ends its wait (the socket, as the request itself has ended).
  const closed = new AbortController();
  const socket = call.req.socket;
  const onClose = () => closed.abort();
  socket?.once('close', onClose);
  try {
    return await pollUntilDeadline();
  } finally {
    socket?.off('close', onClose);
  }

  async function pollUntilDeadline(): Promise<object> {
    for (;;) {
      const claimed = await deps.store.claim(call.queue, {
        now: deps.clock.now(),
        max,
        visibilityMs: visibility * 1000,
        retentionMs: Number(queue.attributes.MessageRetentionPeriod) * 1000,
        fifo: queue.attributes.FifoQueue === 'true',
        ...(redrive && (await deps.store.findQueue(redrive.deadLetterQueue)) ? { redrive } : {}),
      });
      const left = deadline - performance.now();
      if (claimed.length > 0 || left <= 0 || closed.signal.aborted || deps.waiters.stopped) {
        // SQS leaves the list out when it is empty.
        return claimed.length === 0
          ? {}
          : { Messages: claimed.map((m) => messageOutput(m, systemNames, attributeNames)) };
      }
      await deps.waiters.wait(call.queue, left, closed.signal);
    }
  }
}

export async function deleteMessage(call: QueueCall): Promise<object> {
  await requireQueue(call);
  await deleteOne(call, requiredString(call.input, 'ReceiptHandle'));
  return {};
}

async function deleteOne(call: QueueCall, receipt: string): Promise<void> {
  if (messageIdOf(receipt) === undefined) throw sqsErrors.receiptHandleIsInvalid(receipt);
  // A handle of a message already deleted succeeds, as on SQS.
  const message = await call.deps.store.findByReceipt(call.queue, receipt);
  if (message) await call.deps.store.delete(message.id);
}

export async function deleteMessageBatch(call: QueueCall): Promise<object> {
  await requireQueue(call);
  const entries = checkBatch(call.input, 'Entries');
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const entry of entries) {
    try {
      await deleteOne(call, requiredString(entry, 'ReceiptHandle'));
      Successful.push({ Id: entry.Id });
    } catch (error) {
      Failed.push(batchFailure(entry.Id as string, error));
    }
  }
  return { Successful, Failed };
}

export async function changeMessageVisibility(call: QueueCall): Promise<object> {
  await requireQueue(call);
  await changeOne(call, call.input);
  return {};
}

async function changeOne(call: QueueCall, input: Input): Promise<void> {
  const receipt = requiredString(input, 'ReceiptHandle');
  const timeout = optionalInteger(input, 'VisibilityTimeout', 0, 43_200);
  if (timeout === undefined) throw sqsErrors.missingParameter('VisibilityTimeout');
  if (messageIdOf(receipt) === undefined) throw sqsErrors.receiptHandleIsInvalid(receipt);
  const now = call.deps.clock.now();
  const message = await call.deps.store.findByReceipt(call.queue, receipt);
  if (!message || message.receipt !== receipt || message.visibleAt <= now) {
    throw sqsErrors.messageNotInflight();
  }
  await call.deps.store.changeVisibility(message.id, receipt, now + timeout * 1000);
  if (timeout === 0) call.deps.waiters.wake(call.queue);
}

export async function changeMessageVisibilityBatch(call: QueueCall): Promise<object> {
  await requireQueue(call);
  const entries = checkBatch(call.input, 'Entries');
  const Successful: object[] = [];
  const Failed: object[] = [];
  for (const entry of entries) {
    try {
      await changeOne(call, entry);
      Successful.push({ Id: entry.Id });
    } catch (error) {
      Failed.push(batchFailure(entry.Id as string, error));
    }
  }
  return { Successful, Failed };
}

function checkBatch(input: Input, name: string): Input[] {
  const entries = entryList(input, name);
  if (entries.length === 0) throw sqsErrors.emptyBatch();
  if (entries.length > 10) throw sqsErrors.tooManyEntries(entries.length);
  const seen = new Set<string>();
  for (const entry of entries) {
    const id = entry.Id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw sqsErrors.invalidBatchEntryId();
    }
    if (seen.has(id)) throw sqsErrors.idsNotDistinct(id);
    seen.add(id);
  }
  return entries;
}

function batchFailure(id: string, error: unknown): object {
  const e = error as { awsCode?: string; message?: string };
  if (e.awsCode === undefined) throw error;
  return { Id: id, SenderFault: true, Code: e.awsCode, Message: e.message };
}

const systemAttributeNames = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'MessageGroupId',
  'MessageDeduplicationId',
  'SequenceNumber',
];

function messageOutput(m: MessageRow, systemNames: string[], attributeNames: string[]) {
  const all = systemNames.includes('All');
  const system: Record<string, string | undefined> = {
    SenderId: NIMBUS_ACCOUNT_ID,
    SentTimestamp: String(m.sentAt),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
    MessageGroupId: m.groupId,
    MessageDeduplicationId: m.dedupId,
    SequenceNumber: m.groupId === undefined ? undefined : String(m.seq).padStart(20, '0'),
  };
  const Attributes: Record<string, string> = {};
  for (const name of systemAttributeNames) {
    const value = system[name];
    if (value !== undefined && (all || systemNames.includes(name))) Attributes[name] = value;
  }
  const MessageAttributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(m.messageAttributes)) {
    if (attributeWanted(name, attributeNames)) MessageAttributes[name] = value;
  }
  const withAttributes = Object.keys(MessageAttributes).length > 0;
  return {
    MessageId: m.id,
    ReceiptHandle: m.receipt,
    MD5OfBody: m.md5Body,
    Body: m.body,
    ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
    ...(withAttributes
      ? { MessageAttributes, MD5OfMessageAttributes: md5OfAttributes(MessageAttributes) }
      : {}),
  };
}

function attributeWanted(name: string, wanted: string[]): boolean {
  return wanted.some(
    (w) =>
      w === 'All' ||
      w === '.*' ||
      w === name ||
      (w.endsWith('.*') && name.startsWith(w.slice(0, -1))),
  );
}

function readMessageAttributes(raw: unknown): Record<string, MessageAttributeValue> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw sqsErrors.invalidParameter('MessageAttributes must be a map.');
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 10) {
    throw sqsErrors.invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  }
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of entries) {
    if (
      !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
      /^(aws\.|amazon\.)/i.test(name) ||
      name.includes('..') ||
      name.startsWith('.') ||
      name.endsWith('.')
    ) {
      throw sqsErrors.invalidParameter(`Message attribute name '${name}' is invalid.`);
    }
    const v = (value ?? {}) as Record<string, unknown>;
    const type = v.DataType;
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\.[^\s]{1,250})?$/.test(type)) {
      throw sqsErrors.invalidParameter(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
      );
    }
    if (type.startsWith('Binary')) {
      if (typeof v.BinaryValue !== 'string' || v.BinaryValue === '') {
        throw sqsErrors.invalidParameter(
          `The message attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type}'.`,
        );
      }
      out[name] = { DataType: type, BinaryValue: v.BinaryValue };
    } else {
      if (typeof v.StringValue !== 'string' || v.StringValue === '') {
        throw sqsErrors.invalidParameter(
          `The message attribute '${name}' must contain a non-empty message attribute value for message attribute type '${type}'.`,
        );
      }
      if (type.startsWith('Number') && !Number.isFinite(Number(v.StringValue))) {
        throw sqsErrors.invalidParameter(
          `Can't cast the value of message (user) attribute '${name}' to a number.`,
        );
      }
      out[name] = { DataType: type, StringValue: v.StringValue };
    }
  }
  return out;
}

function safeAttributes(raw: unknown): Record<string, MessageAttributeValue> {
  try {
    return readMessageAttributes(raw);
  } catch {
    return {};
  }
}

function attributesSize(attributes: Record<string, MessageAttributeValue>): number {
  let size = 0;
  for (const [name, v] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(v.DataType);
    size +=
      v.BinaryValue !== undefined
        ? Buffer.from(v.BinaryValue, 'base64').length
        : Buffer.byteLength(v.StringValue ?? '');
  }
  return size;
}

/** Characters SQS refuses in a body: XML's forbidden ones, and unpaired surrogates. */
const forbiddenCharacters = new RegExp(
  [
    '[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]',
    '[\\ud800-\\udbff](?![\\udc00-\\udfff])',
    '(?<![\\ud800-\\udbff])[\\udc00-\\udfff]',
  ].join('|'),
);

function checkBodyCharacters(body: string): void {
  if (forbiddenCharacters.test(body)) throw sqsErrors.invalidMessageContents();
}
