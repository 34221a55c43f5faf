/** Subscription attributes: the settable ones and their checks (filter policies included). */
import { InvalidPatternError, parsePattern } from '../../platform/aws/patterns/event-pattern.js';
import { snsErrors } from './sns-errors.js';

const settable = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);

/** SNS's own limits: 150 value combinations; attribute policies are flat, body ones 5 deep. */
const maxFilterValues = 150;

export function checkSubscriptionAttributes(
  given: Record<string, string>,
  protocol: string,
  current: Record<string, string> = {},
): void {
  const merged = { ...current, ...given };
  for (const [name, value] of Object.entries(given)) {
    if (!settable.has(name)) throw snsErrors.invalidParameter(`AttributeName Reason: ${name}`);
    if (name === 'RawMessageDelivery') {
      if (!/^(true|false)$/.test(value)) {
        throw snsErrors.invalidParameter('Attributes Reason: RawMessageDelivery: true or false');
      }
      if (value === 'true' && !['sqs', 'http', 'https', 'firehose'].includes(protocol)) {
        throw snsErrors.invalidParameter(
          `Attributes Reason: Delivery protocol [${protocol}] does not support raw message delivery.`,
        );
      }
    }
    if (name === 'FilterPolicyScope' && !['MessageAttributes', 'MessageBody'].includes(value)) {
      throw snsErrors.invalidParameter(
        'Attributes Reason: FilterPolicyScope: must be MessageAttributes or MessageBody',
      );
    }
    if (name === 'RedrivePolicy' && value !== '') deadLetterQueueOf(value);
    if (['DeliveryPolicy', 'ReplayPolicy'].includes(name) && value !== '') {
      try {
        JSON.parse(value);
      } catch {
        throw snsErrors.invalidParameter(`Attributes Reason: ${name} is not valid JSON`);
      }
    }
  }
  if (merged.FilterPolicy) checkFilterPolicy(merged.FilterPolicy, merged.FilterPolicyScope);
}

export function checkFilterPolicy(text: string, scope: string | undefined): void {
  try {
    parsePattern(text, {
      maxDepth: scope === 'MessageBody' ? 5 : 0,
      maxValues: maxFilterValues,
    });
  } catch (error) {
    if (error instanceof InvalidPatternError) {
      throw snsErrors.invalidParameter(`Filter policy: ${error.message}`);
    }
    throw error;
  }
}

/** The SQS queue a RedrivePolicy's deadLetterTargetArn names. */
export function deadLetterQueueOf(text: string): string {
  let arn: unknown;
  try {
    arn = (JSON.parse(text) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
  } catch {
    throw snsErrors.invalidParameter('RedrivePolicy: not valid JSON');
  }
  const name = typeof arn === 'string' ? sqsQueueOfArn(arn) : undefined;
  if (name === undefined) {
    throw snsErrors.invalidParameter('RedrivePolicy: deadLetterTargetArn must be an SQS queue ARN');
  }
  return name;
}

export function sqsQueueOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs' || !parts[5]) return undefined;
  return parts[5];
}

/** A Lambda function ARN's name and qualifier (`:function:name[:qualifier]`). */
export function functionOfArn(arn: string): { name: string; qualifier?: string } | undefined {
  const m = /^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$/.exec(arn);
  if (!m) return undefined;
  return { name: m[1]!, ...(m[2] ? { qualifier: m[2] } : {}) };
}

/** Protocols whose endpoint must confirm before it gets messages (http, https, email). */
export function confirmedByEndpoint(protocol: string): boolean {
  return ['http', 'https', 'email', 'email-json'].includes(protocol);
}

/** An address SNS takes: something@somewhere, no spaces, at most 254 characters. */
export function isEmailAddress(endpoint: string): boolean {
  return endpoint.length <= 254 && /^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(endpoint);
}
