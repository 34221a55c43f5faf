/**
 * AWS::DynamoDB::Table from serverless.yml `resources`: maps the properties onto the input
 * CreateTable takes and calls the service's own CreateTable, so a table from serverless.yml
 * and one from the SDK are checked and stored the same way.
 */
import { AwsError } from '../../platform/aws/aws-error.js';
import {
  checkKnownProperties,
  generatedName,
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
import type { DynamoDeps, Input } from './dynamodb-call.js';
import { checkIndexDefinition } from './secondary-indexes.js';
import { createTable, updateTable } from './table-operations.js';
import type { TableDescriptionStored } from './table-schema.js';
import { checkTags, mergedTags } from './tags.js';

const HONOURED = [
  'TableName',
  'KeySchema',
  'AttributeDefinitions',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'StreamSpecification',
  'TimeToLiveSpecification',
  'Tags',
];
/** Nothing to do on Nimbus: point-in-time recovery, encryption at rest, table class. */
const NO_EFFECT = [
  'PointInTimeRecoverySpecification',
  'SSESpecification',
  'TableClass',
  'DeletionProtectionEnabled',
  'ContributorInsightsSpecification',
];

/** The stream label every Nimbus table stream carries (its ARN must be known before creation). */
export const STREAM_LABEL = '1970-01-01T00:00:00.000';

export interface TableProvisionerDeps extends DynamoDeps {
  /**
   * The service's UpdateTimeToLive, once it has one; without it a TimeToLiveSpecification is
   * refused rather than ignored.
   */
  updateTimeToLive?: (deps: DynamoDeps, input: Input) => Promise<unknown>;
}

export class TableProvisioner implements ResourceProvisioner {
  readonly type = 'AWS::DynamoDB::Table';
  readonly #deps: TableProvisionerDeps;

  constructor(deps: TableProvisionerDeps) {
    this.#deps = deps;
  }

  attributes(scope: ResourceScope, d: ResourceDeclaration): ResourceAttributes {
    checkKnownProperties(d, HONOURED, NO_EFFECT);
    const name =
      optionalString(d, 'TableName') ??
      generatedName(scope, d.logicalId, { maxLength: 255, allowed: /[^A-Za-z0-9_.-]/g });
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.TableName',
        `"${name}" is not a valid table name (3-255 letters, digits, _ . -)`,
      );
    }
    for (const list of ['KeySchema', 'AttributeDefinitions'] as const) {
      const value = d.properties[list];
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null)) {
        throw new ResourcePropertyError(
          d.logicalId,
          `Properties.${list}`,
          'must be a list of maps',
        );
      }
    }
    for (const list of ['GlobalSecondaryIndexes', 'LocalSecondaryIndexes'] as const) {
      const value = d.properties[list];
      if (value !== undefined && !Array.isArray(value)) {
        throw new ResourcePropertyError(d.logicalId, `Properties.${list}`, 'must be a list');
      }
    }
    const stream = this.#streamViewType(d);
    const ttl = this.#timeToLive(d);
    if (ttl?.Enabled && !this.#deps.updateTimeToLive) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.TimeToLiveSpecification',
        'time to live is not supported by the Nimbus DynamoDB service yet',
      );
    }
    const arn = `arn:aws:dynamodb:${scope.region}:${scope.accountId}:table/${name}`;
    return {
      ref: name,
      physicalId: name,
      attributes: {
        Arn: arn,
        ...(stream ? { StreamArn: `${arn}/stream/${STREAM_LABEL}` } : {}),
      },
    };
  }

  #streamViewType(d: ResourceDeclaration): string | undefined {
    const spec = d.properties.StreamSpecification;
    if (spec === undefined) return undefined;
    const type = (spec as { StreamViewType?: unknown } | null)?.StreamViewType;
    if (
      typeof type !== 'string' ||
      !['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'].includes(type)
    ) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.StreamSpecification.StreamViewType',
        'must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES',
      );
    }
    return type;
  }

  #timeToLive(d: ResourceDeclaration): { AttributeName: string; Enabled: boolean } | undefined {
    const spec = d.properties.TimeToLiveSpecification as
      | { AttributeName?: unknown; Enabled?: unknown }
      | undefined;
    if (spec === undefined) return undefined;
    const enabled = spec?.Enabled === true || spec?.Enabled === 'true';
    if (
      typeof spec !== 'object' ||
      spec === null ||
      (enabled && typeof spec.AttributeName !== 'string')
    ) {
      throw new ResourcePropertyError(
        d.logicalId,
        'Properties.TimeToLiveSpecification',
        'must be {AttributeName, Enabled}',
      );
    }
    return { AttributeName: String(spec.AttributeName ?? ''), Enabled: enabled };
  }

  /** The CreateTable input the properties stand for. */
  #createInput(name: string, d: ResourceDeclaration): Input {
    const p = d.properties;
    const input: Input = {
      TableName: name,
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: p.BillingMode ?? 'PROVISIONED',
    };
    if (input.BillingMode === 'PROVISIONED') {
      const t = (p.ProvisionedThroughput ?? {}) as Record<string, unknown>;
      // CloudFormation takes numbers as strings too.
      input.ProvisionedThroughput = {
        ReadCapacityUnits: Number(t.ReadCapacityUnits ?? 1),
        WriteCapacityUnits: Number(t.WriteCapacityUnits ?? 1),
      };
    }
    if (p.GlobalSecondaryIndexes !== undefined) {
      input.GlobalSecondaryIndexes = (p.GlobalSecondaryIndexes as unknown[]).map(numericThroughput);
    }
    if (p.LocalSecondaryIndexes !== undefined)
      input.LocalSecondaryIndexes = p.LocalSecondaryIndexes;
    const stream = this.#streamViewType(d);
    if (stream) input.StreamSpecification = { StreamEnabled: true, StreamViewType: stream };
    if (p.Tags !== undefined) input.Tags = cloudFormationTags(p.Tags);
    return input;
  }

  async apply(
    scope: ResourceScope,
    d: ResourceDeclaration,
    previous: ProvisionedResource | undefined,
  ): Promise<ProvisionedResource> {
    const attributes = this.attributes(scope, d);
    const name = attributes.physicalId;
    const input = this.#createInput(name, d);
    const existing = await this.#deps.store.findTable(name);
    if (existing) {
      if (previous?.physicalId !== name) {
        throw new Error(`table ${name} already exists (it was not created by this stage)`);
      }
      // CloudFormation replaces a table whose key changes, losing its items; Nimbus refuses.
      const sameKeys = JSON.stringify(existing.KeySchema) === JSON.stringify(input.KeySchema);
      if (!sameKeys) {
        throw new Error(
          `table ${name}: KeySchema changed; a new key needs a new TableName (the old table keeps its items)`,
        );
      }
      // DynamoDB cannot change a table's local indexes; CloudFormation replaces the table.
      const fixed = ['LocalSecondaryIndexes', 'StreamSpecification'];
      const changed = fixed.filter(
        (k) => JSON.stringify(previous.properties[k]) !== JSON.stringify(d.properties[k]),
      );
      if (changed.length > 0) {
        throw new Error(
          `table ${name}: changing ${changed.join(', ')} on redeploy is not supported yet`,
        );
      }
      try {
        await this.#updateTable(existing, input);
      } catch (error) {
        if (error instanceof AwsError) throw new Error(`table ${name}: ${error.message}`);
        throw error;
      }
    } else {
      try {
        await createTable(this.#deps, input, { streamLabel: STREAM_LABEL });
      } catch (error) {
        if (error instanceof AwsError) throw new Error(error.message);
        throw error;
      }
    }
    const ttl = this.#timeToLive(d);
    if (ttl && this.#deps.updateTimeToLive) {
      await this.#deps.updateTimeToLive(this.#deps, {
        TableName: name,
        TimeToLiveSpecification: ttl,
      });
    }
    return { logicalId: d.logicalId, type: this.type, properties: d.properties, ...attributes };
  }

  /**
   * A redeploy's changes to an existing table, through the service's own UpdateTable: billing
   * mode and throughput, then global indexes no longer declared (or declared with another key
   * schema or projection) deleted, and new ones created and filled from the table's items, one
   * per call as DynamoDB takes them. CloudFormation refuses more than one index creation or
   * deletion per stack update and an index changed in place; Nimbus does them in turn (an index
   * holds nothing of its own: it is rebuilt from the items). docs/dynamodb.md, "Tables from
   * serverless.yml".
   */
  async #updateTable(existing: TableDescriptionStored, input: Input): Promise<void> {
    const TableName = existing.TableName;
    const billing = String(input.BillingMode);
    const provisioned = billing === 'PROVISIONED';
    const throughputChanged =
      provisioned &&
      JSON.stringify(existing.ProvisionedThroughput) !==
        JSON.stringify(input.ProvisionedThroughput);
    if (existing.BillingMode !== billing || throughputChanged) {
      await updateTable(this.#deps, {
        TableName,
        BillingMode: billing,
        ...(provisioned ? { ProvisionedThroughput: input.ProvisionedThroughput } : {}),
      });
    }
    const shape = (i: { KeySchema: unknown; Projection: unknown }) =>
      JSON.stringify([i.KeySchema, i.Projection]);
    const wanted = ((input.GlobalSecondaryIndexes ?? []) as unknown[]).map((raw) => ({
      raw,
      index: checkIndexDefinition(raw, 'GlobalSecondaryIndexes', existing.TableArn, provisioned),
    }));
    const current = existing.GlobalSecondaryIndexes ?? [];
    const kept = new Set<string>();
    for (const index of current) {
      const match = wanted.find((w) => w.index.IndexName === index.IndexName);
      if (match && shape(match.index) === shape(index)) {
        kept.add(index.IndexName);
        continue;
      }
      await updateTable(this.#deps, {
        TableName,
        GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: index.IndexName } }],
      });
    }
    for (const { raw, index } of wanted) {
      if (!kept.has(index.IndexName)) {
        await updateTable(this.#deps, {
          TableName,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: raw }],
        });
        continue;
      }
      const before = current.find((i) => i.IndexName === index.IndexName);
      if (
        provisioned &&
        JSON.stringify(before?.ProvisionedThroughput) !==
          JSON.stringify(index.ProvisionedThroughput)
      ) {
        await updateTable(this.#deps, {
          TableName,
          GlobalSecondaryIndexUpdates: [
            {
              Update: {
                IndexName: index.IndexName,
                ProvisionedThroughput: index.ProvisionedThroughput,
              },
            },
          ],
        });
      }
    }
    // The declared tags replace the table's, as CloudFormation sets them.
    const tags = input.Tags === undefined ? [] : mergedTags([], checkTags(input.Tags, 'Tags'));
    const latest = await this.#deps.store.findTable(TableName);
    if (latest && JSON.stringify(latest.Tags ?? []) !== JSON.stringify(tags)) {
      const next = structuredClone(latest);
      if (tags.length > 0) next.Tags = tags;
      else delete next.Tags;
      await this.#deps.store.updateDescription(next);
    }
  }

  async remove(
    _scope: ResourceScope,
    resource: ProvisionedResource,
  ): Promise<{ removed: true } | { removed: false; reason: string }> {
    await this.#deps.store.deleteTable(resource.physicalId);
    return { removed: true };
  }
}

/** CloudFormation takes an index's capacity units as strings too. */
function numericThroughput(raw: unknown): unknown {
  const index = raw as { ProvisionedThroughput?: Record<string, unknown> } | null;
  const t = index?.ProvisionedThroughput;
  if (!t || typeof t !== 'object') return raw;
  return {
    ...index,
    ProvisionedThroughput: {
      ReadCapacityUnits: Number(t.ReadCapacityUnits),
      WriteCapacityUnits: Number(t.WriteCapacityUnits),
    },
  };
}

/** CloudFormation's `Tags` (a YAML `Value: 1` arrives as a number; CloudFormation takes it). */
function cloudFormationTags(raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.map((t: unknown) => {
    const tag = t as { Key?: unknown; Value?: unknown } | null;
    if (!tag || typeof tag !== 'object') return t;
    const value = tag.Value;
    return typeof value === 'number' || typeof value === 'boolean'
      ? { ...tag, Value: String(value) }
      : tag;
  });
}
