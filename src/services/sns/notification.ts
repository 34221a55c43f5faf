/**
 * What SNS delivers: the JSON notification (SQS and http bodies), its Lambda record form, and
 * the message attributes a filter policy sees. Nimbus holds no AWS signing certificate: the
 * Signature field is the base64 SHA-256 digest of the canonical string SNS signs, not an RSA
 * signature, and SigningCertURL is empty (docs/sns.md).
 */
import { createHash } from 'node:crypto';

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  /** Base64. */
  BinaryValue?: string;
}

export interface Notification {
  messageId: string;
  topicArn: string;
  subject?: string;
  message: string;
  timestamp: number;
  messageAttributes: Record<string, MessageAttribute>;
  sequenceNumber?: string;
  groupId?: string;
  dedupId?: string;
}

/** The JSON body SQS and http(s) subscribers get when delivery is not raw. */
export function notificationEnvelope(
  n: Notification,
  subscriptionArn: string,
  baseUrl: string,
): Record<string, unknown> {
  const timestamp = new Date(n.timestamp).toISOString();
  return {
    Type: 'Notification',
    MessageId: n.messageId,
    ...(n.sequenceNumber ? { SequenceNumber: n.sequenceNumber } : {}),
    TopicArn: n.topicArn,
    ...(n.subject !== undefined ? { Subject: n.subject } : {}),
    Message: n.message,
    Timestamp: timestamp,
    SignatureVersion: '1',
    Signature: digest(n, timestamp),
    SigningCertURL: '',
    UnsubscribeURL: unsubscribeUrl(baseUrl, subscriptionArn),
    ...(Object.keys(n.messageAttributes).length > 0
      ? { MessageAttributes: envelopeAttributes(n.messageAttributes) }
      : {}),
  };
}

/** The event a Lambda subscriber is invoked with. */
export function lambdaEvent(n: Notification, subscriptionArn: string, baseUrl: string): object {
  const timestamp = new Date(n.timestamp).toISOString();
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: n.messageId,
          TopicArn: n.topicArn,
          Subject: n.subject ?? null,
          Message: n.message,
          Timestamp: timestamp,
          SignatureVersion: '1',
          Signature: digest(n, timestamp),
          SigningCertUrl: '',
          UnsubscribeUrl: unsubscribeUrl(baseUrl, subscriptionArn),
          MessageAttributes: envelopeAttributes(n.messageAttributes),
        },
      },
    ],
  };
}

function envelopeAttributes(attributes: Record<string, MessageAttribute>) {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, a]) => [
      name,
      { Type: a.DataType, Value: a.BinaryValue ?? a.StringValue ?? '' },
    ]),
  );
}

function unsubscribeUrl(baseUrl: string, subscriptionArn: string): string {
  return `${baseUrl}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
}

/** The canonical notification string of SNS signature version 1, digested. */
function digest(n: Notification, timestamp: string): string {
  const fields: [string, string | undefined][] = [
    ['Message', n.message],
    ['MessageId', n.messageId],
    ['Subject', n.subject],
    ['Timestamp', timestamp],
    ['TopicArn', n.topicArn],
    ['Type', 'Notification'],
  ];
  const canonical = fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}\n${v}\n`)
    .join('');
  return createHash('sha256').update(canonical, 'utf8').digest('base64');
}

/**
 * The document a MessageAttributes-scoped filter policy is matched against: String values as
 * strings, Number values as numbers, String.Array values as their JSON arrays; Binary ones are
 * not filterable (as on SNS).
 */
export function filterDocument(attributes: Record<string, MessageAttribute>): object {
  const doc: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(attributes)) {
    const type = a.DataType.split('.')[0];
    if (a.StringValue === undefined) continue;
    if (type === 'Number') doc[name] = Number(a.StringValue);
    else if (a.DataType === 'String.Array') {
      try {
        doc[name] = JSON.parse(a.StringValue);
      } catch {
        doc[name] = a.StringValue;
      }
    } else doc[name] = a.StringValue;
  }
  return doc;
}
