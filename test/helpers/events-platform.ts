/**
 * A platform (startAwsPlatform) with the clients the messaging suites talk to it through:
 * EventBridge, SQS and SNS, each one attempt (no hidden retries), plus the queue chores those
 * suites share (create a queue, its ARN, read a queue empty).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type AwsPlatform, type AwsPlatformVariant, startAwsPlatform } from './aws-platform.js';

/** The account every Nimbus ARN carries. */
export const account = '000000000000';

export const queueArn = (name: string) => `arn:aws:sqs:us-east-1:${account}:${name}`;

/** A message as the suites compare them: its body and its string attributes. */
export interface DrainedMessage {
  Body: string;
  attributes: Record<string, string>;
}

export interface EventsPlatform {
  aws: AwsPlatform;
  eb: EventBridgeClient;
  sqs: SQSClient;
  sns: SNSClient;
  /** Creates a queue (attributes as CreateQueue takes them); its URL. */
  queue(name: string, attributes?: Record<string, string>): Promise<string>;
  /**
   * Every message now in the queue, each deleted once read: a long poll of `waitSeconds` for the
   * first, then receives until one comes back empty.
   */
  drain(url: string, waitSeconds?: number): Promise<DrainedMessage[]>;
  close(): Promise<void>;
}

export async function startEventsPlatform(
  variant: AwsPlatformVariant,
  opts: Parameters<typeof startAwsPlatform>[1] = {},
): Promise<EventsPlatform> {
  const aws = await startAwsPlatform(variant, opts);
  const config = aws.clientConfig();
  const eb = new EventBridgeClient(config);
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  return {
    aws,
    eb,
    sqs,
    sns,
    queue: async (QueueName, Attributes) =>
      (await sqs.send(new CreateQueueCommand({ QueueName, Attributes }))).QueueUrl!,
    drain: async (url, waitSeconds = 1) => {
      const out: DrainedMessage[] = [];
      for (;;) {
        const r = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: out.length === 0 ? waitSeconds : 0,
            MessageAttributeNames: ['All'],
          }),
        );
        if (!r.Messages?.length) return out;
        for (const m of r.Messages) {
          out.push({
            Body: m.Body!,
            attributes: Object.fromEntries(
              Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue!]),
            ),
          });
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }),
          );
        }
      }
    },
    close: async () => {
      eb.destroy();
      sqs.destroy();
      sns.destroy();
      await aws.close();
    },
  };
}
