/** What every SQS operation gets: its dependencies, the input, and the queue it names. */
import type { IncomingMessage } from 'node:http';
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import type { Clock } from '../../model/clock.js';
import type { QueueWaiters } from './queue-waiters.js';
import { sqsErrors } from './sqs-errors.js';
import { type Input, requiredString } from './sqs-input.js';
import type { QueueRow, SqsStore } from './sqs-store.js';

export interface SqsDeps {
  store: SqsStore;
  clock: Clock;
  region: string;
  waiters: QueueWaiters;
}

export interface SqsCall {
  deps: SqsDeps;
  req: IncomingMessage;
  input: Input;
}

export interface QueueCall extends SqsCall {
  queue: string;
}

/** `http://<host the client used>/000000000000/<name>`: the SDKs send later calls there. */
export function queueUrl(req: IncomingMessage, name: string): string {
  return `http://${req.headers.host ?? 'localhost'}/${NIMBUS_ACCOUNT_ID}/${name}`;
}

/** The queue name a QueueUrl names (any host: clients may reach the platform by many names). */
export function queueNameOfUrl(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw sqsErrors.invalidAddress(url);
  }
  const [, account, name, extra] = path.split('/');
  if (extra !== undefined || !name) throw sqsErrors.invalidAddress(url);
  if (account !== NIMBUS_ACCOUNT_ID) throw sqsErrors.queueDoesNotExist();
  return name;
}

export function withQueue(call: SqsCall): QueueCall {
  return { ...call, queue: queueNameOfUrl(requiredString(call.input, 'QueueUrl')) };
}

export async function requireQueue(call: QueueCall): Promise<QueueRow> {
  const queue = await call.deps.store.findQueue(call.queue);
  if (!queue) throw sqsErrors.queueDoesNotExist();
  return queue;
}
