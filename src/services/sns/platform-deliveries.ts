/**
 * SNS deliveries through the platform's parts: functions through the AsyncInvoker, queues
 * through the SQS store, http(s) endpoints by POST and email subscribers through the platform's
 * mail (SMTP, or the outbox), both with SNS's default retry policy (3 retries, 20 s apart;
 * shorter in tests) in this process.
 */
import type { Logger } from 'pino';
import type { Deliveries, QueueMessage, SnsMail } from './fan-out.js';

export interface PlatformDeliveriesOptions {
  invokeAsync: (name: string, qualifier: string | undefined, event: string) => Promise<unknown>;
  sendToQueue: (queue: string, message: QueueMessage) => Promise<unknown>;
  /** Hands mail to the SMTP server, or to the outbox without one (server.ts). */
  sendMail: (message: SnsMail) => Promise<void>;
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
  const later = (run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };
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
        later(() => post(url, headers, body, attempt + 1));
      });
  };
  /** The first hand-off is awaited; a failed one is retried in the background. */
  const mail = async (message: SnsMail, attempt = 0): Promise<void> => {
    try {
      await opts.sendMail(message);
    } catch (error) {
      // Never the address or the text: the log is not the place for them.
      const where = { subscription: message.subscriptionArn, err: error };
      if (attempt >= retries)
        opts.logger.warn(where, 'SNS email delivery failed after its retries');
      else later(() => void mail(message, attempt + 1));
    }
  };
  return {
    mail,
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
      const document = JSON.stringify({
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
      });
      if (subscription.protocol === 'email' || subscription.protocol === 'email-json') {
        void mail({
          to: subscription.endpoint,
          subject: 'AWS Notification - Subscription Confirmation',
          text:
            subscription.protocol === 'email'
              ? `You have chosen to subscribe to the topic:\n${topicArn}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary):\n${subscribeUrl}\n`
              : document,
          kind: 'confirmation',
          topicArn,
          subscriptionArn: subscription.arn,
        });
        return;
      }
      post(
        subscription.endpoint,
        {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'SubscriptionConfirmation',
          'x-amz-sns-topic-arn': topicArn,
        },
        document,
      );
    },
    onError: (error, subscriptionArn) =>
      opts.logger.warn({ err: error, subscription: subscriptionArn }, 'SNS delivery failed'),
  };
}
