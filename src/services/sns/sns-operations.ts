/** The SNS operations by name. */
import { publish, publishBatch } from './publish-operations.js';
import type { SnsCall } from './sns-call.js';
import { snsErrors } from './sns-errors.js';
import {
  confirmSubscription,
  getSubscriptionAttributes,
  listSubscriptions,
  listSubscriptionsByTopic,
  setSubscriptionAttributes,
  subscribe,
  unsubscribe,
} from './subscription-operations.js';
import {
  createTopic,
  deleteTopic,
  getTopicAttributes,
  listTopics,
  setTopicAttributes,
} from './topic-operations.js';

const operations: Record<string, (call: SnsCall) => Promise<object>> = {
  CreateTopic: createTopic,
  ListTopics: listTopics,
  DeleteTopic: deleteTopic,
  GetTopicAttributes: getTopicAttributes,
  SetTopicAttributes: setTopicAttributes,
  Subscribe: subscribe,
  ConfirmSubscription: confirmSubscription,
  Unsubscribe: unsubscribe,
  ListSubscriptions: listSubscriptions,
  ListSubscriptionsByTopic: listSubscriptionsByTopic,
  GetSubscriptionAttributes: getSubscriptionAttributes,
  SetSubscriptionAttributes: setSubscriptionAttributes,
  Publish: publish,
  PublishBatch: publishBatch,
};

/** SNS operations Nimbus does not serve (SMS, mobile push, tags, permissions, data protection). */
const unsupported = new Set([
  'AddPermission',
  'RemovePermission',
  'TagResource',
  'UntagResource',
  'ListTagsForResource',
  'CreatePlatformApplication',
  'CreatePlatformEndpoint',
  'CheckIfPhoneNumberIsOptedOut',
  'GetSMSAttributes',
  'SetSMSAttributes',
  'GetDataProtectionPolicy',
  'PutDataProtectionPolicy',
]);

export function runSnsOperation(action: string, call: SnsCall): Promise<object> {
  const operation = operations[action];
  if (operation) return operation(call);
  if (unsupported.has(action)) throw snsErrors.unsupportedOperation(action);
  throw snsErrors.invalidAction(action);
}
