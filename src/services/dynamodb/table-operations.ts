/** CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable. */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../../platform/aws/aws-error.js';
import { type DynamoDeps, enumOf, type Input, requireTable, tableNameOf } from './dynamodb-call.js';
import { invalidParameter, tableInUse, tableNotFound, validation } from './dynamodb-errors.js';
import {
  checkIndexDefinition,
  type IndexDescriptionStored,
  maxGlobalIndexes,
  maxLocalIndexes,
} from './secondary-indexes.js';
import { checkStreamSpecification, enableStream } from './streams.js';
import { type KeyType, schemaOf, type TableDescriptionStored } from './table-schema.js';
import { checkTags, mergedTags } from './tags.js';

/**
 * `opts.streamLabel`: the label the table's stream gets instead of its creation time. Tables
 * made from serverless.yml `resources` use the fixed STREAM_LABEL, so the stream ARN that
 * `Fn::GetAtt [T, StreamArn]` resolved to before the table existed is its LatestStreamArn.
 */
export async function createTable(
  deps: DynamoDeps,
  input: Input,
  opts: { streamLabel?: string } = {},
) {
  const name = tableNameOf(input);
  const keySchema = input.KeySchema;
  const defs = input.AttributeDefinitions;
  if (!Array.isArray(keySchema) || keySchema.length < 1 || keySchema.length > 2) {
    throw validation(
      "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
    );
  }
  if (!Array.isArray(defs))
    throw validation(
      "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null",
    );
  const ks = keySchema as { AttributeName?: unknown; KeyType?: unknown }[];
  const hash = ks[0];
  if (hash?.KeyType !== 'HASH' || (ks[1] && ks[1].KeyType !== 'RANGE')) {
    throw validation('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  }
  const attributeDefinitions = (defs as { AttributeName?: unknown; AttributeType?: unknown }[]).map(
    (d) => {
      if (
        typeof d.AttributeName !== 'string' ||
        !['S', 'N', 'B'].includes(String(d.AttributeType))
      ) {
        throw validation('One or more parameter values were invalid: Invalid AttributeDefinitions');
      }
      return { AttributeName: d.AttributeName, AttributeType: d.AttributeType as KeyType };
    },
  );
  const billingMode = enumOf(
    input,
    'BillingMode',
    ['PROVISIONED', 'PAY_PER_REQUEST'] as const,
    'PROVISIONED',
  );
  const tableArn = `arn:aws:dynamodb:${deps.region}:${deps.accountId}:table/${name}`;
  const tableKey = ks.map((k) => String(k.AttributeName));
  const { globals, locals } = indexesOf(input, tableKey, tableArn, billingMode === 'PROVISIONED');
  const keyNames = new Set([
    ...tableKey,
    ...[...globals, ...locals].flatMap((i) => i.KeySchema.map((k) => k.AttributeName)),
  ]);
  for (const k of keyNames) checkDefined(k, attributeDefinitions);
  if (attributeDefinitions.length !== keyNames.size) {
    throw validation(
      'One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
    );
  }
  const stream =
    input.StreamSpecification === undefined
      ? undefined
      : checkStreamSpecification(input.StreamSpecification);
  const tags = input.Tags === undefined ? [] : mergedTags([], checkTags(input.Tags));
  const now = deps.clock.now();
  const description: TableDescriptionStored = {
    TableName: name,
    KeySchema: ks.map((k) => ({
      AttributeName: String(k.AttributeName),
      KeyType: k.KeyType as 'HASH' | 'RANGE',
    })),
    AttributeDefinitions: attributeDefinitions,
    BillingMode: billingMode,
    ...(billingMode === 'PROVISIONED'
      ? { ProvisionedThroughput: provisioned(input.ProvisionedThroughput) }
      : {}),
    TableArn: tableArn,
    TableId: randomUUID(),
    CreationDateTime: now / 1000,
    ...(globals.length > 0 ? { GlobalSecondaryIndexes: globals } : {}),
    ...(locals.length > 0 ? { LocalSecondaryIndexes: locals } : {}),
    ...(tags.length > 0 ? { Tags: tags } : {}),
  };
  if (stream?.StreamEnabled) enableStream(description, stream, now, opts.streamLabel);
  if (!(await deps.store.createTable(description, now))) throw tableInUse(name);
  return { TableDescription: await describe(deps, description) };
}

function checkDefined(name: string, defs: { AttributeName: string }[]): void {
  if (!defs.some((d) => d.AttributeName === name)) {
    throw validation(
      `One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [${name}], AttributeDefinitions: [${defs.map((d) => d.AttributeName).join(', ')}]`,
    );
  }
}

/** CreateTable's GlobalSecondaryIndexes and LocalSecondaryIndexes, checked together. */
function indexesOf(input: Input, tableKey: string[], tableArn: string, provisioned: boolean) {
  const list = (field: 'GlobalSecondaryIndexes' | 'LocalSecondaryIndexes', max: number) => {
    const raw = input[field];
    if (raw === undefined) return [];
    if (!Array.isArray(raw) || raw.length === 0) {
      throw invalidParameter(`List of ${field} is empty`);
    }
    if (raw.length > max) {
      throw invalidParameter(
        `${field === 'GlobalSecondaryIndexes' ? 'GlobalSecondaryIndex' : 'LocalSecondaryIndex'} count exceeds the per-table limit of ${max}`,
      );
    }
    return raw.map((d) => checkIndexDefinition(d, field, tableArn, provisioned));
  };
  const globals = list('GlobalSecondaryIndexes', maxGlobalIndexes);
  const locals = list('LocalSecondaryIndexes', maxLocalIndexes);
  const names = new Set<string>();
  for (const i of [...globals, ...locals]) {
    if (names.has(i.IndexName)) throw invalidParameter(`Duplicate index name: ${i.IndexName}`);
    names.add(i.IndexName);
  }
  for (const l of locals) {
    if (tableKey.length < 2) {
      throw invalidParameter(
        'Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex',
      );
    }
    if (l.KeySchema[0]!.AttributeName !== tableKey[0] || l.KeySchema.length !== 2) {
      throw invalidParameter(
        `Index KeySchema does not have the same leading hash key as table KeySchema for index: ${l.IndexName}. index hash key: ${l.KeySchema[0]!.AttributeName}, table hash key: ${tableKey[0]}`,
      );
    }
  }
  return { globals, locals };
}

function provisioned(raw: unknown) {
  const p = (raw ?? {}) as { ReadCapacityUnits?: unknown; WriteCapacityUnits?: unknown };
  if (typeof p.ReadCapacityUnits !== 'number' || typeof p.WriteCapacityUnits !== 'number') {
    throw validation(
      'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
    );
  }
  return { ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits };
}

export async function describe(deps: DynamoDeps, d: TableDescriptionStored, status = 'ACTIVE') {
  const count = status === 'ACTIVE' ? await deps.store.countItems(d.TableName) : 0;
  const {
    ProvisionedThroughput,
    BillingMode,
    GlobalSecondaryIndexes,
    LocalSecondaryIndexes,
    Tags: _tags,
    ...rest
  } = d;
  const indexCount = (name: string) =>
    status === 'ACTIVE' ? deps.store.countIndexItems(d.TableName, name) : Promise.resolve(0);
  const indexes = async (list: IndexDescriptionStored[] | undefined, global: boolean) =>
    list === undefined
      ? undefined
      : Promise.all(
          list.map(async (i) => ({
            ...i,
            ...(global
              ? {
                  IndexStatus: status === 'ACTIVE' ? 'ACTIVE' : status,
                  ProvisionedThroughput: {
                    NumberOfDecreasesToday: 0,
                    ReadCapacityUnits: i.ProvisionedThroughput?.ReadCapacityUnits ?? 0,
                    WriteCapacityUnits: i.ProvisionedThroughput?.WriteCapacityUnits ?? 0,
                  },
                }
              : {}),
            ItemCount: await indexCount(i.IndexName),
            IndexSizeBytes: 0,
          })),
        );
  const globals = await indexes(GlobalSecondaryIndexes, true);
  const locals = await indexes(LocalSecondaryIndexes, false);
  return {
    ...rest,
    ...(globals ? { GlobalSecondaryIndexes: globals } : {}),
    ...(locals ? { LocalSecondaryIndexes: locals } : {}),
    TableStatus: status,
    ItemCount: count,
    TableSizeBytes: 0,
    BillingModeSummary: { BillingMode },
    ProvisionedThroughput: {
      NumberOfDecreasesToday: 0,
      ReadCapacityUnits: ProvisionedThroughput?.ReadCapacityUnits ?? 0,
      WriteCapacityUnits: ProvisionedThroughput?.WriteCapacityUnits ?? 0,
    },
  };
}

export async function describeTable(deps: DynamoDeps, input: Input) {
  const schema = await requireTable(deps, tableNameOf(input));
  return { Table: await describe(deps, schema.description) };
}

export async function listTables(deps: DynamoDeps, input: Input) {
  const limit = input.Limit === undefined ? 100 : Number(input.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw validation(
      `1 validation error detected: Value '${String(input.Limit)}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100`,
    );
  }
  const after =
    typeof input.ExclusiveStartTableName === 'string' ? input.ExclusiveStartTableName : undefined;
  const names = await deps.store.listTables(after, limit + 1);
  const page = names.slice(0, limit);
  return {
    TableNames: page,
    ...(names.length > limit ? { LastEvaluatedTableName: page.at(-1) } : {}),
  };
}

export async function deleteTable(deps: DynamoDeps, input: Input) {
  const name = tableNameOf(input);
  const description = await deps.store.findTable(name);
  if (!description) throw tableNotFound(name);
  const table = await describe(deps, schemaOf(description).description, 'DELETING');
  if (!(await deps.store.deleteTable(name))) throw tableNotFound(name);
  return { TableDescription: table };
}

/**
 * UpdateTable: billing mode and throughput (accepted, not enforced), and one global secondary
 * index created (filled from the table's items before the call returns, so it is ACTIVE at once)
 * or deleted per call, as DynamoDB allows.
 */
export async function updateTable(deps: DynamoDeps, input: Input) {
  const schema = await requireTable(deps, tableNameOf(input));
  const d: TableDescriptionStored = structuredClone(schema.description);
  const updates = input.GlobalSecondaryIndexUpdates;
  const changesSomething =
    input.BillingMode !== undefined ||
    input.ProvisionedThroughput !== undefined ||
    input.StreamSpecification !== undefined ||
    (Array.isArray(updates) && updates.length > 0);
  if (!changesSomething) {
    throw validation(
      'At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required',
    );
  }
  if (input.StreamSpecification !== undefined) {
    const spec = checkStreamSpecification(input.StreamSpecification);
    const enabled = d.StreamSpecification?.StreamEnabled === true;
    if (spec.StreamEnabled && enabled) {
      throw validation(`Table already has an enabled stream: TableName: ${d.TableName}`);
    }
    if (!spec.StreamEnabled && !enabled) {
      throw validation(`Table does not have an enabled stream: TableName: ${d.TableName}`);
    }
    if (spec.StreamEnabled) enableStream(d, spec, deps.clock.now());
    else d.StreamSpecification = { StreamEnabled: false };
  }
  if (input.BillingMode !== undefined) {
    d.BillingMode = enumOf(
      input,
      'BillingMode',
      ['PROVISIONED', 'PAY_PER_REQUEST'] as const,
      'PROVISIONED',
    );
    if (d.BillingMode === 'PAY_PER_REQUEST') delete d.ProvisionedThroughput;
  }
  if (input.ProvisionedThroughput !== undefined) {
    if (d.BillingMode !== 'PROVISIONED') {
      throw validation(
        'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
      );
    }
    d.ProvisionedThroughput = provisioned(input.ProvisionedThroughput);
  } else if (d.BillingMode === 'PROVISIONED' && !d.ProvisionedThroughput) {
    d.ProvisionedThroughput = provisioned(undefined);
  }
  const list = Array.isArray(updates) ? (updates as Record<string, Input | undefined>[]) : [];
  const creates = list.filter((u) => u.Create !== undefined).map((u) => u.Create!);
  const deletes = list.filter((u) => u.Delete !== undefined).map((u) => u.Delete!);
  if (creates.length + deletes.length > 1) {
    throw new AwsError(
      400,
      'LimitExceededException',
      'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table',
    );
  }
  for (const u of list.filter((u) => u.Update !== undefined).map((u) => u.Update!)) {
    const existing = d.GlobalSecondaryIndexes?.find((i) => i.IndexName === u.IndexName);
    if (!existing) throw tableNotFound();
    existing.ProvisionedThroughput = provisioned(u.ProvisionedThroughput);
  }
  const create = creates[0];
  const drop = deletes[0];
  if (create) {
    const index = checkIndexDefinition(
      create,
      'GlobalSecondaryIndexes',
      d.TableArn,
      d.BillingMode === 'PROVISIONED',
    );
    const all = [...(d.GlobalSecondaryIndexes ?? []), ...(d.LocalSecondaryIndexes ?? [])];
    if (all.some((i) => i.IndexName === index.IndexName)) {
      throw invalidParameter(
        `Attempting to create an index which already exists: ${index.IndexName}`,
      );
    }
    if ((d.GlobalSecondaryIndexes ?? []).length >= maxGlobalIndexes) {
      throw new AwsError(
        400,
        'LimitExceededException',
        `GlobalSecondaryIndex count exceeds the per-table limit of ${maxGlobalIndexes}`,
      );
    }
    const given = Array.isArray(input.AttributeDefinitions)
      ? (input.AttributeDefinitions as { AttributeName?: unknown; AttributeType?: unknown }[])
      : [];
    for (const k of index.KeySchema) {
      const known = d.AttributeDefinitions.find((a) => a.AttributeName === k.AttributeName);
      const def = given.find((a) => a.AttributeName === k.AttributeName);
      if (def && !['S', 'N', 'B'].includes(String(def.AttributeType))) {
        throw invalidParameter('Invalid AttributeDefinitions');
      }
      if (known && def && known.AttributeType !== def.AttributeType) {
        throw invalidParameter(
          `Cannot change the type of attribute ${k.AttributeName}, which is part of the table's key or another index`,
        );
      }
      if (!known) {
        if (!def) checkDefined(k.AttributeName, given as { AttributeName: string }[]);
        d.AttributeDefinitions.push({
          AttributeName: k.AttributeName,
          AttributeType: def!.AttributeType as KeyType,
        });
      }
    }
    d.GlobalSecondaryIndexes = [...(d.GlobalSecondaryIndexes ?? []), index];
    const next = schemaOf(d);
    await deps.store.addIndex(next, next.indexes.find((i) => i.name === index.IndexName)!, d);
  } else if (drop) {
    const name = drop.IndexName;
    if (!d.GlobalSecondaryIndexes?.some((i) => i.IndexName === name)) {
      throw new AwsError(
        400,
        'ResourceNotFoundException',
        `Requested resource not found: Index: ${String(name)}`,
      );
    }
    d.GlobalSecondaryIndexes = d.GlobalSecondaryIndexes.filter((i) => i.IndexName !== name);
    if (d.GlobalSecondaryIndexes.length === 0) delete d.GlobalSecondaryIndexes;
    d.AttributeDefinitions = d.AttributeDefinitions.filter((a) =>
      usedKeyNames(d).has(a.AttributeName),
    );
    await deps.store.dropIndex(d, String(name));
  } else {
    await deps.store.updateDescription(d);
  }
  return { TableDescription: await describe(deps, d) };
}

function usedKeyNames(d: TableDescriptionStored): Set<string> {
  return new Set(
    [
      d.KeySchema,
      ...[...(d.GlobalSecondaryIndexes ?? []), ...(d.LocalSecondaryIndexes ?? [])].map(
        (i) => i.KeySchema,
      ),
    ]
      .flat()
      .map((k) => k.AttributeName),
  );
}
