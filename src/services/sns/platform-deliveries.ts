/**
 * SNS deliveries through the platform's parts: functions through the AsyncInvoker, queues
 * through the SQS store, http(s) endpoints by POST with SNS's default retry policy (3 retries,
 * 20 s apart; shorter in tests) in this process.
 */
import type { Logger } from 'pino';
import type { Deliveries, QueueMessage } from './fan-out.js';

export interface PlatformDeliveriesOptions {
  invokeAsync: (name: string, qualifier: string | undefined, event: string) => Promise<unknown>;
  sendToQueue: (queue: string, message: QueueMessage) => Promise<unknown>;
  logger: Logger;
  retries?: number;
  retryDelayMs?: number;
  /** Aborts a POST that takes longer. */
  timeoutMs?: number;
}

export function platformDeliveries(opts: PlatformDeliveriesOptions): Deliveries {
  const retries = opts.retries ?? 3;
  const delayMs = opts.retryDelayMs ?? 20_000;
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const timers = new Set<NodeJS.Timeout>();
  const post = (url: string, headers: Record<string, string>, body: string, attempt = 0) => {
    fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) })
      .then(async (res) => {
        await res.body?.cancel();
        if (res.status >= 500 || res.status === 429) throw new Error(`HTTP ${res.status}`);
        if (res.status >= 400)
          opts.logger.warn({ url, status: res.status }, 'SNS http delivery refused');
      })
      .catch((error: unknown) => {
        if (attempt >= retries) {
          opts.logger.warn({ url, err: error }, 'SNS http delivery failed after its retries');
          return;
        }
        const timer = setTimeout(() => {
          timers.delete(timer);
          post(url, headers, body, attempt + 1);
        }, delayMs);
        timer.unref();
        timers.add(timer);
      });
  };
  return {
    invokeAsync: async (name, qualifier, event) => {
      await opts.invokeAsync(name, qualifier, event);
    },
    sendToQueue: async (queue, message) => {
      await opts.sendToQueue(queue, message);
    },
    post: (url, headers, body) => post(url, headers, body),
    confirm: ({ subscription, topicArn, baseUrl, timestamp }) => {
      const token = subscription.token!;
      const subscribeUrl = `${baseUrl}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`;
      const message = `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`;
      post(
        subscription.endpoint,
        {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'SubscriptionConfirmation',
          'x-amz-sns-topic-arn': topicArn,
        },
        JSON.stringify({
          Type: 'SubscriptionConfirmation',
          MessageId: crypto.randomUUID(),
          Token: token,
          TopicArn: topicArn,
          Message: message,
          SubscribeURL: subscribeUrl,
          Timestamp: new Date(timestamp).toISOString(),
          SignatureVersion: '1',
          Signature: '',
          SigningCertURL: '',
        }),
      );
    },
    onError: (error, subscriptionArn) =>
      opts.logger.warn({ err: error, subscription: subscriptionArn }, 'SNS delivery failed'),
  };
}
