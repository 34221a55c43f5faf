/**
 * Handing a published message to every subscription whose filter policy it passes. Lambda and
 * SQS deliveries are durable before Publish answers: a function's event is accepted by the
 * AsyncInvoker (its queue job committed, retries and destinations as for any async event) and
 * an SQS message is stored in its queue. http(s) deliveries are posted after the answer, with
 * retries in this process (docs/sns.md states what a crash loses there).
 */
import { matches, type Pattern } from '../../platform/aws/patterns/event-pattern.js';
import {
  filterDocument,
  lambdaEvent,
  type MessageAttribute,
  type Notification,
  notificationEnvelope,
} from './notification.js';
import type { SubscriptionRow } from './sns-store.js';
import { deadLetterQueueOf, functionOfArn, sqsQueueOfArn } from './subscription-attributes.js';

export interface QueueMessage {
  body: string;
  messageAttributes: Record<string, MessageAttribute>;
  groupId?: string;
  dedupId?: string;
}

/** The platform parts SNS delivers through (wired in server.ts). */
export interface Deliveries {
  /** Accepts an asynchronous invocation durably; throws when the function does not exist. */
  invokeAsync(functionName: string, qualifier: string | undefined, event: string): Promise<void>;
  /** Stores a message in an SQS queue; throws when the queue does not exist. */
  sendToQueue(queue: string, message: QueueMessage): Promise<void>;
  /** Posts to an http(s) subscriber in the background, retrying. */
  post(url: string, headers: Record<string, string>, body: string): void;
  /**
   * Hands a message to an email subscriber (SMTP, or the outbox without a mail server); a
   * failed hand-off is retried in the background.
   */
  mail(message: SnsMail): Promise<void>;
  /** Sends an http(s) or email subscriber its SubscriptionConfirmation. */
  confirm(request: {
    subscription: SubscriptionRow;
    topicArn: string;
    baseUrl: string;
    timestamp: number;
  }): void;
  onError(error: unknown, subscriptionArn: string): void;
}

/** A message to an `email` or `email-json` subscriber. */
export interface SnsMail {
  to: string;
  subject: string;
  text: string;
  kind: 'confirmation' | 'notification';
  topicArn: string;
  subscriptionArn: string;
}

/** What SNS names a message without a Subject in its mail. */
export const defaultMailSubject = 'AWS Notification Message';

export interface FanOutContext {
  deliveries: Deliveries;
  baseUrl: string;
}

/** Per-protocol messages of `MessageStructure: json`; `default` for the others. */
export type MessageByProtocol = (protocol: string) => string;

export async function fanOut(
  ctx: FanOutContext,
  subscriptions: SubscriptionRow[],
  notification: Notification,
  messageFor: MessageByProtocol,
): Promise<void> {
  for (const subscription of subscriptions) {
    if (subscription.token !== undefined) continue;
    const n = { ...notification, message: messageFor(subscription.protocol) };
    if (!passesFilter(subscription, n)) continue;
    try {
      await deliver(ctx, subscription, n);
    } catch (error) {
      await redrive(ctx, subscription, n, error);
    }
  }
}

export function passesFilter(subscription: SubscriptionRow, n: Notification): boolean {
  const policy = subscription.attributes.FilterPolicy;
  if (!policy) return true;
  const pattern = JSON.parse(policy) as Pattern;
  if (subscription.attributes.FilterPolicyScope === 'MessageBody') {
    let body: unknown;
    try {
      body = JSON.parse(n.message);
    } catch {
      return false;
    }
    return matches(pattern, body);
  }
  return matches(pattern, filterDocument(n.messageAttributes));
}

async function deliver(ctx: FanOutContext, s: SubscriptionRow, n: Notification): Promise<void> {
  const raw = s.attributes.RawMessageDelivery === 'true';
  switch (s.protocol) {
    case 'lambda': {
      const fn = functionOfArn(s.endpoint)!;
      const event = JSON.stringify(lambdaEvent(n, s.arn, ctx.baseUrl));
      await ctx.deliveries.invokeAsync(fn.name, fn.qualifier, event);
      return;
    }
    case 'sqs': {
      const queue = sqsQueueOfArn(s.endpoint)!;
      await ctx.deliveries.sendToQueue(queue, {
        body: raw ? n.message : JSON.stringify(notificationEnvelope(n, s.arn, ctx.baseUrl)),
        messageAttributes: raw ? n.messageAttributes : {},
        ...(n.groupId !== undefined ? { groupId: n.groupId } : {}),
        ...(n.dedupId !== undefined ? { dedupId: n.dedupId } : {}),
      });
      return;
    }
    case 'email':
    case 'email-json':
      await ctx.deliveries.mail({
        to: s.endpoint,
        subject: n.subject ?? defaultMailSubject,
        // email gets the message itself; email-json the notification document http gets.
        text:
          s.protocol === 'email'
            ? n.message
            : JSON.stringify(notificationEnvelope(n, s.arn, ctx.baseUrl)),
        kind: 'notification',
        topicArn: n.topicArn,
        subscriptionArn: s.arn,
      });
      return;
    default:
      ctx.deliveries.post(
        s.endpoint,
        {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'Notification',
          'x-amz-sns-message-id': n.messageId,
          'x-amz-sns-topic-arn': n.topicArn,
          'x-amz-sns-subscription-arn': s.arn,
          ...(raw ? { 'x-amz-sns-rawdelivery': 'true' } : {}),
        },
        raw ? n.message : JSON.stringify(notificationEnvelope(n, s.arn, ctx.baseUrl)),
      );
  }
}

/** A delivery that failed goes to the subscription's dead-letter queue, when it has one. */
async function redrive(
  ctx: FanOutContext,
  s: SubscriptionRow,
  n: Notification,
  error: unknown,
): Promise<void> {
  ctx.deliveries.onError(error, s.arn);
  if (!s.attributes.RedrivePolicy) return;
  try {
    await ctx.deliveries.sendToQueue(deadLetterQueueOf(s.attributes.RedrivePolicy), {
      body: JSON.stringify(notificationEnvelope(n, s.arn, ctx.baseUrl)),
      messageAttributes: {},
    });
  } catch (dlqError) {
    ctx.deliveries.onError(dlqError, s.arn);
  }
}
