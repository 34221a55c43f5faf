/**
 * AWS::Kinesis::Stream from serverless.yml `resources`: the properties become CreateStream's
 * input and go through the same checks; `Ref` is the stream name, `Fn::GetAtt [S, Arn]` its
 * ARN. A later deploy may change the retention period and tags; a different shard count or
 * mode is refused, as Nimbus does not reshard.
 */
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  checkKnownProperties,
  generatedName,
  optionalInteger,
  optionalString,
} from '../../platform/aws/resources/property-checks.js';
import {
  type ProvisionedResource,
  type ResourceAttributes,
  type ResourceDeclaration,
  ResourcePropertyError,
  type ResourceProvisioner,
  type ResourceScope,
} from '../../platform/aws/resources/provisioner.js';
import type { KinesisDeps } from './kinesis-call.js';
import { streamArn } from './stream-names.js';
import {
  createStream,
  deleteStream,
  type StreamSpec,
  setRetention,
  streamLimits,
  streamSpecOf,
} from './stream-operations.js';

const HONOURED = ['Name', 'ShardCount', 'RetentionPeriodHours', 'StreamModeDetails', 'Tags'];
/** Encryption at rest changes nothing on Nimbus. */
const NO_EFFECT = ['StreamEncryption'];

export class StreamProvisioner implements ResourceProvisioner {
  readonly type = 'AWS::Kinesis::Stream';
  readonly #deps: Pick<KinesisDeps, 'store' | 'records' | 'clock'>;

  constructor(deps: Pick<KinesisDeps, 'store' | 'records' | 'clock'>) {
    this.#deps = deps;
  }

  attributes(scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes {
    const spec = this.#spec(scope, d);
    return {
      ref: spec.name,
      physicalId: spec.name,
      attributes: { Arn: streamArn(scope.region, spec.name) },
    };
  }

  #spec(scope: ResourceScope, d: ResourceDeclaration): StreamSpec {
    checkKnownProperties(d, HONOURED, NO_EFFECT);
    const name =
      optionalString(d, 'Name') ??
      generatedName(scope, d.logicalId, { maxLength: 128, allowed: /[^a-zA-Z0-9_.-]/g });
    const shardCount = optionalInteger(d, 'ShardCount', 1, streamLimits.maxShards);
    const { min, max } = streamLimits.retention;
    const retention = optionalInteger(d, 'RetentionPeriodHours', min, max);
    const tags = d.properties.Tags;
    if (tags !== undefined && !Array.isArray(tags)) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.Tags',
        'must be a list of {Key, Value}',
      );
    }
    const tagMap: Record<string, unknown> = {};
    for (const t of (tags ?? []) as unknown[]) {
      const { Key, Value } = (t ?? {}) as { Key?: unknown; Value?: unknown };
      if (typeof Key !== 'string' || typeof Value !== 'string') {
        throw new ResourcePropertyError(
          d.logicalId,
          'Properties.Tags',
          'must be a list of {Key, Value}',
        );
      }
      tagMap[Key] = Value;
    }
    try {
      const spec = streamSpecOf({
        StreamName: name,
        ...(shardCount === undefined ? {} : { ShardCount: shardCount }),
        ...(d.properties.StreamModeDetails === undefined
          ? {}
          : { StreamModeDetails: d.properties.StreamModeDetails }),
        Tags: tagMap,
      });
      return { ...spec, retentionHours: retention ?? spec.retentionHours };
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      throw new ResourcePropertyError(d.logicalId, 'Properties', error.message);
    }
  }

  async apply(
    scope: ResourceScope,
    d: ResourceDeclaration,
    previous: ProvisionedResource | undefined,
  ): Promise<ProvisionedResource> {
    const attributes = this.attributes(scope, d);
    const spec = this.#spec(scope, d);
    const { store } = this.#deps;
    const existing = await store.findStream(spec.name);
    if (!existing) {
      await createStream(this.#deps, this.#deps.clock, spec);
    } else {
      if (previous?.physicalId !== spec.name) {
        throw new Error(`stream ${spec.name} already exists (it was not created by this stage)`);
      }
      if (existing.shardCount !== spec.shardCount || existing.mode !== spec.mode) {
        throw new ResourcePropertyError(
          d.logicalId,
          'Properties.ShardCount',
          `stream ${spec.name} has ${existing.shardCount} shards (${existing.mode}); Nimbus does not reshard a stream (remove it and deploy again, or use a new name)`,
        );
      }
      if (existing.retentionHours !== spec.retentionHours) {
        await setRetention(this.#deps, existing, spec.retentionHours);
      }
      if (JSON.stringify(existing.tags) !== JSON.stringify(spec.tags)) {
        await store.setTags(spec.name, spec.tags);
      }
    }
    return { logicalId: d.logicalId, type: this.type, properties: d.properties, ...attributes };
  }

  async remove(
    _scope: ResourceScope,
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }> {
    await deleteStream(this.#deps, resource.physicalId);
    return { removed: true };
  }
}
