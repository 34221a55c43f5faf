/** The SQS operations by name, whichever protocol carried the call. */
import {
  changeMessageVisibility,
  changeMessageVisibilityBatch,
  deleteMessage,
  deleteMessageBatch,
  receiveMessage,
  sendMessage,
  sendMessageBatch,
} from './message-operations.js';
import {
  createQueue,
  deleteQueue,
  getQueueAttributes,
  getQueueUrl,
  listQueues,
  purgeQueue,
  setQueueAttributes,
} from './queue-operations.js';
import { type QueueCall, type SqsCall, withQueue } from './sqs-call.js';
import { sqsErrors } from './sqs-errors.js';

const queueOperations: Record<string, (call: QueueCall) => Promise<object>> = {
  GetQueueAttributes: getQueueAttributes,
  SetQueueAttributes: setQueueAttributes,
  DeleteQueue: deleteQueue,
  PurgeQueue: purgeQueue,
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
  ReceiveMessage: receiveMessage,
  DeleteMessage: deleteMessage,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
  ChangeMessageVisibilityBatch: changeMessageVisibilityBatch,
};

const serviceOperations: Record<string, (call: SqsCall) => Promise<object>> = {
  CreateQueue: createQueue,
  GetQueueUrl: getQueueUrl,
  ListQueues: listQueues,
};

/** SQS operations Nimbus does not serve: answered UnsupportedOperation. */
const unsupported = new Set([
  'AddPermission',
  'RemovePermission',
  'TagQueue',
  'UntagQueue',
  'ListQueueTags',
  'ListDeadLetterSourceQueues',
  'StartMessageMoveTask',
  'CancelMessageMoveTask',
  'ListMessageMoveTasks',
]);

export function runSqsOperation(operation: string, call: SqsCall): Promise<object> {
  const service = serviceOperations[operation];
  if (service) return service(call);
  const queue = queueOperations[operation];
  if (queue) return queue(withQueue(call));
  if (unsupported.has(operation)) throw sqsErrors.unsupportedOperation(operation);
  throw sqsErrors.invalidAction(operation);
}
