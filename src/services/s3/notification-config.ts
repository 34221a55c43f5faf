/**
 * A bucket's notification configuration: SQS queues, SNS topics and Lambda functions that get
 * the S3 event record for the changes they ask for, and whether every change also goes to
 * EventBridge's default bus. Checked as S3 checks it, whether it comes from
 * PutBucketNotificationConfiguration or from `NotificationConfiguration` in serverless.yml; the
 * checks throw NotificationConfigError (S3's code and message), which each edge shapes.
 */
import { randomUUID } from 'node:crypto';
import { NimbusError } from '../../errors/nimbus-error.js';
import {
  childElement,
  childElements,
  textNode,
  type XmlElement,
  type XmlNode,
} from '../../platform/aws/protocols/xml.js';
import { s3Namespace } from './s3-call.js';

export type DestinationKind = 'queue' | 'topic' | 'function';

export interface NotificationTarget {
  id: string;
  kind: DestinationKind;
  arn: string;
  /** `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`, ... */
  events: string[];
  prefix?: string;
  suffix?: string;
}

export interface BucketNotification {
  targets: NotificationTarget[];
  /** Every change also goes to the default event bus (source `aws.s3`). */
  eventBridge: boolean;
}

export class NotificationConfigError extends NimbusError {
  constructor(
    /** What S3 answers PutBucketNotificationConfiguration with. */
    readonly awsCode: 'MalformedXML' | 'InvalidArgument',
    message: string,
    /** S3's ArgumentName / ArgumentValue, where it names them. */
    readonly argument?: { name: string; value: string },
  ) {
    super('NIMBUS_S3_BAD_NOTIFICATION', message);
  }
}

/** The changes Nimbus reports, as configurations name them (and `:*` for each family). */
export const firedEvents = [
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:Delete',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
];

/**
 * Event types S3 knows that name changes Nimbus never makes (no versioning, ACLs, lifecycle,
 * archive tiers or replication): accepted, as on a bucket where none of that happens.
 */
const neverFired = [
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectAcl:Put',
  's3:ReducedRedundancyLostObject',
  's3:ObjectRestore:*',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:Replication:*',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationNotTracked',
  's3:Replication:OperationMissedThreshold',
  's3:Replication:OperationReplicatedAfterThreshold',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:LifecycleTransition',
  's3:IntelligentTiering',
];

const knownEvents = new Set([
  ...firedEvents,
  ...neverFired,
  ...new Set(firedEvents.map((e) => `${e.slice(0, e.lastIndexOf(':'))}:*`)),
]);

const maxIdLength = 255;
const maxFilterValueBytes = 1024;

export const malformedNotification = () =>
  new NotificationConfigError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

const invalid = (message: string, name?: string, value?: string) =>
  new NotificationConfigError(
    'InvalidArgument',
    message,
    name === undefined ? undefined : { name, value: value ?? '' },
  );

/** A configuration as the caller wrote it, before ids are given and checks run. */
export interface DraftTarget {
  id?: string;
  kind: DestinationKind;
  arn: string;
  events: string[];
  rules: { name: string; value: string }[];
}

/** Checks every configuration, gives ids to those without, and returns the configuration. */
export function validateNotification(
  drafts: DraftTarget[],
  eventBridge: boolean,
): BucketNotification {
  const targets = drafts.map(checkTarget);
  const ids = new Set<string>();
  for (const t of targets) {
    if (ids.has(t.id)) throw invalid('Duplicate notification configuration Id', 'Id', t.id);
    ids.add(t.id);
  }
  for (let i = 0; i < targets.length; i++) {
    for (let j = i + 1; j < targets.length; j++) {
      if (overlap(targets[i]!, targets[j]!)) {
        throw invalid(
          'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
          'Event',
          targets[j]!.events.join(', '),
        );
      }
    }
  }
  return { targets, eventBridge };
}

function checkTarget(draft: DraftTarget): NotificationTarget {
  if (draft.id !== undefined && draft.id.length > maxIdLength) throw malformedNotification();
  if (draft.events.length === 0) throw malformedNotification();
  for (const event of draft.events) {
    if (!knownEvents.has(event)) {
      throw invalid('The event is not supported for notifications', 'Event', event);
    }
  }
  if (!arnPattern[draft.kind].test(draft.arn)) {
    throw invalid(`The ARN is not well formed`, destinationArgument[draft.kind], draft.arn);
  }
  let prefix: string | undefined;
  let suffix: string | undefined;
  for (const rule of draft.rules) {
    const name = rule.name.toLowerCase();
    if (name !== 'prefix' && name !== 'suffix') {
      throw invalid('filter rule name must be either prefix or suffix', 'FilterRule', rule.name);
    }
    if (Buffer.byteLength(rule.value, 'utf8') > maxFilterValueBytes) {
      throw invalid('The filter rule value is too long', 'FilterRule', rule.name);
    }
    if ((name === 'prefix' ? prefix : suffix) !== undefined) {
      throw invalid(
        `Cannot specify more than one ${name} rule in a filter.`,
        'FilterRule',
        rule.name,
      );
    }
    if (name === 'prefix') prefix = rule.value;
    else suffix = rule.value;
  }
  return {
    // S3 makes up an id for a configuration without one; it is what the records name.
    id: draft.id || Buffer.from(randomUUID()).toString('base64'),
    kind: draft.kind,
    arn: draft.arn,
    events: [...new Set(draft.events)],
    ...(prefix ? { prefix } : {}),
    ...(suffix ? { suffix } : {}),
  };
}

const arnPattern: Record<DestinationKind, RegExp> = {
  queue: /^arn:aws[a-zA-Z-]*:sqs:[^:]*:[^:]*:[^:]+$/,
  topic: /^arn:aws[a-zA-Z-]*:sns:[^:]*:[^:]*:[^:]+$/,
  function: /^arn:aws[a-zA-Z-]*:lambda:[^:]*:[^:]*:function:[^:]+(?::[^:]+)?$/,
};

const destinationArgument: Record<DestinationKind, string> = {
  queue: 'Queue',
  topic: 'Topic',
  function: 'CloudFunction',
};

/** Two configurations S3 refuses together: a common event type for keys both could match. */
function overlap(a: NotificationTarget, b: NotificationTarget): boolean {
  const sharesEvent = a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)));
  if (!sharesEvent) return false;
  const prefixes = a.prefix === undefined || b.prefix === undefined;
  const prefixOverlap =
    prefixes || a.prefix!.startsWith(b.prefix!) || b.prefix!.startsWith(a.prefix!);
  const suffixes = a.suffix === undefined || b.suffix === undefined;
  const suffixOverlap = suffixes || a.suffix!.endsWith(b.suffix!) || b.suffix!.endsWith(a.suffix!);
  return prefixOverlap && suffixOverlap;
}

function eventsOverlap(x: string, y: string): boolean {
  if (x === y) return true;
  const family = (e: string) => e.slice(0, e.lastIndexOf(':'));
  return (x.endsWith(':*') || y.endsWith(':*')) && family(x) === family(y);
}

/** True when a configuration asks for `eventName` (`ObjectCreated:Put`) on `key`. */
export function targetMatches(t: NotificationTarget, eventName: string, key: string): boolean {
  const wanted = t.events.some((pattern) => {
    const p = pattern.slice('s3:'.length);
    return p.endsWith(':*') ? eventName.startsWith(p.slice(0, -1)) : eventName === p;
  });
  if (!wanted) return false;
  if (t.prefix !== undefined && !key.startsWith(t.prefix)) return false;
  return t.suffix === undefined || key.endsWith(t.suffix);
}

const elementOf: Record<DestinationKind, { config: string; arn: string }> = {
  topic: { config: 'TopicConfiguration', arn: 'Topic' },
  queue: { config: 'QueueConfiguration', arn: 'Queue' },
  function: { config: 'CloudFunctionConfiguration', arn: 'CloudFunction' },
};

/** `<NotificationConfiguration>` as PutBucketNotificationConfiguration sends it. */
export function notificationFromXml(doc: XmlElement | undefined): BucketNotification {
  // An empty body, like an empty element, removes every configuration.
  if (doc === undefined) return { targets: [], eventBridge: false };
  if (doc.name !== 'NotificationConfiguration') throw malformedNotification();
  const drafts: DraftTarget[] = [];
  for (const kind of ['topic', 'queue', 'function'] as const) {
    const names = elementOf[kind];
    for (const config of childElements(doc, names.config)) {
      const arn = childElement(config, names.arn)?.text.trim();
      if (!arn) throw malformedNotification();
      const id = childElement(config, 'Id')?.text.trim();
      const s3Key = childElement(childElement(config, 'Filter') ?? emptyElement, 'S3Key');
      drafts.push({
        ...(id ? { id } : {}),
        kind,
        arn,
        events: childElements(config, 'Event').map((e) => e.text.trim()),
        rules: childElements(s3Key ?? emptyElement, 'FilterRule').map((r) => ({
          name: childElement(r, 'Name')?.text.trim() ?? '',
          value: childElement(r, 'Value')?.text ?? '',
        })),
      });
    }
  }
  return validateNotification(drafts, childElement(doc, 'EventBridgeConfiguration') !== undefined);
}

const emptyElement: XmlElement = { name: '', children: [], text: '' };

export function notificationToXml(config: BucketNotification | undefined): XmlNode {
  const targets = config?.targets ?? [];
  const byKind = (kind: DestinationKind) =>
    targets
      .filter((t) => t.kind === kind)
      .map(
        (t): XmlNode => ({
          name: elementOf[kind].config,
          children: [
            textNode('Id', t.id),
            textNode(elementOf[kind].arn, t.arn),
            ...t.events.map((e) => textNode('Event', e)),
            t.prefix === undefined && t.suffix === undefined
              ? undefined
              : {
                  name: 'Filter',
                  children: [
                    {
                      name: 'S3Key',
                      children: [filterRule('Prefix', t.prefix), filterRule('Suffix', t.suffix)],
                    },
                  ],
                },
          ],
        }),
      );
  return {
    name: 'NotificationConfiguration',
    attrs: { xmlns: s3Namespace },
    children: [
      ...byKind('topic'),
      ...byKind('queue'),
      ...byKind('function'),
      config?.eventBridge ? { name: 'EventBridgeConfiguration', children: [] } : undefined,
    ],
  };
}

function filterRule(name: string, value: string | undefined): XmlNode | undefined {
  if (value === undefined) return undefined;
  return { name: 'FilterRule', children: [textNode('Name', name), textNode('Value', value)] };
}

/** The CloudFormation type and name a destination ARN names (for ownership checks). */
export function destinationResource(kind: DestinationKind, arn: string) {
  const parts = arn.split(':');
  if (kind === 'function') return { kind: 'AWS::Lambda::Function', name: parts[6] ?? '' };
  return { kind: kind === 'queue' ? 'AWS::SQS::Queue' : 'AWS::SNS::Topic', name: parts[5] ?? '' };
}

/**
 * The first configuration whose destination does not exist (the platform's check stands in for
 * S3's test message), skipping the kinds in `skip`; undefined when every one exists.
 */
export async function missingDestination(
  config: BucketNotification | undefined,
  exists: (kind: DestinationKind, arn: string) => Promise<boolean>,
  skip: readonly DestinationKind[] = [],
): Promise<NotificationTarget | undefined> {
  for (const t of config?.targets ?? []) {
    if (!skip.includes(t.kind) && !(await exists(t.kind, t.arn))) return t;
  }
  return undefined;
}
