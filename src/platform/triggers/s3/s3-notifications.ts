/**
 * S3 event notifications: the configurations of every stage's `s3` events (installed by the
 * reconciler, one stage at a time) and each bucket's own notification configuration
 * (PutBucketNotificationConfiguration, `NotificationConfiguration` in serverless.yml), and the
 * records they turn object changes into: `s3` events' functions through the AsyncInvoker
 * (retries, destinations and task status as for any async event), a bucket's queues, topics
 * and functions through the platform's destinations, and EventBridge's default bus.
 *
 * One event per matching configuration per change. A function writing into its own bucket
 * under a key its configuration does not match causes no event, so it does not loop.
 */
import type { Logger } from 'pino';
import { NIMBUS_ACCOUNT_ID } from '../../../model/account.js';
import {
  notificationMatches,
  type S3Notification,
  s3NotificationsOf,
} from '../../../service/events/s3-event-config.js';
import {
  type BucketNotification,
  targetMatches,
} from '../../../services/s3/notification-config.js';
import type { NotificationDestinations } from '../../../services/s3/s3-call.js';
import type { StageReaction } from '../../reconcile/stage-reconciler.js';

/** What the S3 service reports after a change has committed. */
export interface ObjectChange {
  bucket: string;
  key: string;
  /**
   * `ObjectCreated:Put`, `ObjectCreated:Post`, `ObjectCreated:Copy`,
   * `ObjectCreated:CompleteMultipartUpload`, `ObjectRemoved:Delete`, `ObjectTagging:Put`,
   * `ObjectTagging:Delete`.
   */
  eventName: string;
  /** Created objects only. */
  size?: number;
  /** Quoted, as S3 answers it; created objects only. */
  etag?: string;
  /** Epoch ms. */
  at: number;
  /** The access key id that made the change. */
  principal: string;
  sourceIp: string;
  requestId: string;
}

export interface S3NotifierDeps {
  region: string;
  accept: (functionName: string, qualifier: string, event: string) => Promise<unknown>;
  logger: Pick<Logger, 'warn'>;
  /** A bucket's own notification configuration (undefined or `missing`: none). */
  configOf?: (bucket: string) => Promise<BucketNotification | undefined | 'missing'>;
  destinations?: NotificationDestinations;
  /** Puts an event on the default event bus. */
  putEvent?: (entry: {
    Source: string;
    DetailType: string;
    Detail: string;
    Resources: string[];
  }) => Promise<void>;
}

export class S3Notifier {
  readonly #deps: S3NotifierDeps;
  /** `service/stage` -> its configurations. */
  readonly #byStage = new Map<string, S3Notification[]>();
  /** bucket -> every stage's configurations on it. */
  #byBucket = new Map<string, S3Notification[]>();
  #sequence = 0;

  constructor(deps: S3NotifierDeps) {
    this.#deps = deps;
  }

  setStage(stageKey: string, notifications: S3Notification[]): void {
    if (notifications.length === 0) this.#byStage.delete(stageKey);
    else this.#byStage.set(stageKey, notifications);
    const byBucket = new Map<string, S3Notification[]>();
    for (const list of this.#byStage.values()) {
      for (const n of list) byBucket.set(n.bucket, [...(byBucket.get(n.bucket) ?? []), n]);
    }
    this.#byBucket = byBucket;
  }

  /**
   * Accepts one event per matching configuration. Called after the change committed and
   * awaited by the S3 operation, so an answered write's events are durable; a failure to
   * accept one is logged, never thrown (the write itself has happened).
   */
  async notify(change: ObjectChange): Promise<void> {
    const d = this.#deps;
    const sequencer = this.#sequencer(change.at);
    const record = (id: string) =>
      JSON.stringify(s3EventRecord({ id }, change, sequencer, d.region));
    const sends: { to: string; send: () => Promise<unknown> }[] = [];
    for (const n of this.#byBucket.get(change.bucket) ?? []) {
      if (!notificationMatches(n, change.eventName, change.key)) continue;
      sends.push({
        to: n.functionName,
        send: () => d.accept(n.functionName, n.qualifier, record(n.id)),
      });
    }
    let config: BucketNotification | undefined | 'missing';
    try {
      config = await d.configOf?.(change.bucket);
    } catch (error) {
      d.logger.warn(
        { err: error, bucket: change.bucket },
        "the bucket's notification configuration could not be read",
      );
    }
    if (config && config !== 'missing') {
      for (const t of config.targets) {
        if (!d.destinations || !targetMatches(t, change.eventName, change.key)) continue;
        const destinations = d.destinations;
        sends.push({ to: t.arn, send: () => destinations.send(t.kind, t.arn, record(t.id)) });
      }
      const entry = config.eventBridge ? eventBridgeEntry(change, sequencer) : undefined;
      if (entry && d.putEvent) {
        const put = d.putEvent;
        sends.push({ to: 'EventBridge', send: () => put(entry) });
      }
    }
    await Promise.all(
      sends.map(({ to, send }) =>
        send().catch((error: unknown) =>
          d.logger.warn(
            { err: error, bucket: change.bucket, destination: to },
            'an S3 event could not be accepted',
          ),
        ),
      ),
    );
  }

  /** Hex that grows with time and, within a millisecond, with each change (as S3's does per key). */
  #sequencer(at: number): string {
    this.#sequence = (this.#sequence + 1) % 0x10000;
    return (
      at.toString(16).toUpperCase().padStart(12, '0') +
      this.#sequence.toString(16).toUpperCase().padStart(4, '0')
    );
  }
}

/** The S3 notification record (event version 2.1), wrapped in `Records` as Lambda receives it. */
export function s3EventRecord(
  n: Pick<S3Notification, 'id'>,
  change: ObjectChange,
  sequencer: string,
  region: string,
): { Records: unknown[] } {
  const created = change.eventName.startsWith('ObjectCreated:');
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date(change.at).toISOString(),
        eventName: change.eventName,
        userIdentity: { principalId: `AWS:${change.principal}` },
        requestParameters: { sourceIPAddress: change.sourceIp },
        responseElements: {
          'x-amz-request-id': change.requestId,
          'x-amz-id-2': change.requestId,
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: n.id,
          bucket: {
            name: change.bucket,
            ownerIdentity: { principalId: 'nimbus' },
            arn: `arn:aws:s3:::${change.bucket}`,
          },
          object: {
            key: eventKey(change.key),
            ...(created && change.size !== undefined ? { size: change.size } : {}),
            ...(created && change.etag !== undefined
              ? { eTag: change.etag.replace(/^"|"$/g, '') }
              : {}),
            sequencer,
          },
        },
      },
    ],
  };
}

/** EventBridge's detail types for the changes Nimbus makes, and the S3 API each came from. */
const eventBridgeKinds: Record<string, { type: string; reason?: string }> = {
  'ObjectCreated:Put': { type: 'Object Created', reason: 'PutObject' },
  'ObjectCreated:Post': { type: 'Object Created', reason: 'POST Object' },
  'ObjectCreated:Copy': { type: 'Object Created', reason: 'CopyObject' },
  'ObjectCreated:CompleteMultipartUpload': {
    type: 'Object Created',
    reason: 'CompleteMultipartUpload',
  },
  'ObjectRemoved:Delete': { type: 'Object Deleted', reason: 'DeleteObject' },
  'ObjectTagging:Put': { type: 'Object Tags Added' },
  'ObjectTagging:Delete': { type: 'Object Tags Deleted' },
};

/** The event S3 puts on the default bus (source `aws.s3`); the key is not URL-encoded there. */
export function eventBridgeEntry(change: ObjectChange, sequencer: string) {
  const kind = eventBridgeKinds[change.eventName];
  if (!kind) return undefined;
  const created = kind.type === 'Object Created';
  const detail = {
    version: '0',
    bucket: { name: change.bucket },
    object: {
      key: change.key,
      ...(created && change.size !== undefined ? { size: change.size } : {}),
      ...(change.etag !== undefined ? { etag: change.etag.replace(/^"|"$/g, '') } : {}),
      sequencer,
    },
    'request-id': change.requestId,
    requester: NIMBUS_ACCOUNT_ID,
    'source-ip-address': change.sourceIp,
    ...(kind.reason ? { reason: kind.reason } : {}),
    ...(kind.type === 'Object Deleted' ? { 'deletion-type': 'Permanently Deleted' } : {}),
  };
  return {
    Source: 'aws.s3',
    DetailType: kind.type,
    Detail: JSON.stringify(detail),
    Resources: [`arn:aws:s3:::${change.bucket}`],
  };
}

/**
 * Keys in S3 events are URL-encoded as HTML forms encode them: a space is `+`, `/` stays, and
 * everything but letters, digits and `-_.*` is percent-encoded ("red flower.jpg" ->
 * "red+flower.jpg"), so handlers decode with `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export function eventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')
    .replaceAll('%2F', '/');
}

/** Installs the stage's `s3` events as its notification configurations. */
export function s3NotificationsReaction(notifier: Pick<S3Notifier, 'setStage'>): StageReaction {
  return {
    name: 's3 notifications',
    react: async (state) => {
      notifier.setStage(
        `${state.service}/${state.stage}`,
        s3NotificationsOf(state.functions, state.stage),
      );
    },
  };
}
