/** CreateTable, DescribeTable, ListTables, DeleteTable. */
import { randomUUID } from 'node:crypto';
import { type DynamoDeps, enumOf, type Input, requireTable, tableNameOf } from './dynamodb-call.js';
import { notSupported, tableInUse, tableNotFound, validation } from './dynamodb-errors.js';
import { type KeyType, schemaOf, type TableDescriptionStored } from './table-schema.js';

export async function createTable(deps: DynamoDeps, input: Input) {
  const name = tableNameOf(input);
  if (input.GlobalSecondaryIndexes !== undefined) throw notSupported('GlobalSecondaryIndexes');
  if (input.LocalSecondaryIndexes !== undefined) throw notSupported('LocalSecondaryIndexes');
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
  for (const k of ks) {
    if (!attributeDefinitions.some((d) => d.AttributeName === k.AttributeName)) {
      throw validation(
        'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [' +
          String(k.AttributeName) +
          '], AttributeDefinitions: [' +
          attributeDefinitions.map((d) => d.AttributeName).join(', ') +
          ']',
      );
    }
  }
  if (attributeDefinitions.length !== ks.length) {
    throw validation(
      'One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
    );
  }
  const billingMode = enumOf(
    input,
    'BillingMode',
    ['PROVISIONED', 'PAY_PER_REQUEST'] as const,
    'PROVISIONED',
  );
  if (input.StreamSpecification !== undefined) throw notSupported('StreamSpecification');
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
    TableArn: `arn:aws:dynamodb:${deps.region}:${deps.accountId}:table/${name}`,
    TableId: randomUUID(),
    CreationDateTime: now / 1000,
  };
  if (!(await deps.store.createTable(description, now))) throw tableInUse(name);
  return { TableDescription: await describe(deps, description) };
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

async function describe(deps: DynamoDeps, d: TableDescriptionStored, status = 'ACTIVE') {
  const count = status === 'ACTIVE' ? await deps.store.countItems(d.TableName) : 0;
  const { ProvisionedThroughput, BillingMode, ...rest } = d;
  return {
    ...rest,
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
