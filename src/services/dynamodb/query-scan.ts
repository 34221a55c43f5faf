/** Query and Scan: pages of at most Limit items read and 1 MB, then filtered and projected. */
import { createHash } from 'node:crypto';
import { JsonText } from '../../platform/aws/protocols/aws-json.js';
import { checkItem, type Item, itemSize, itemSizeBound } from './attribute-value.js';
import { Consumption, capacityModeOf, readUnits } from './consumed-capacity.js';
import {
  type DynamoDeps,
  enumOf,
  type Input,
  limitOf,
  requireSchema,
  tableNameOf,
} from './dynamodb-call.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import type { IndexPosition, SortRange, StoredItem } from './dynamodb-store.js';
import { evaluateCondition, project } from './expression-eval.js';
import {
  type Condition,
  ExpressionScope,
  type Operand,
  parseCondition,
} from './expression-parser.js';
import { projectionOf } from './item-operations.js';
import {
  attributesToGetPaths,
  legacyConditions,
  legacyKeyConditions,
  refuseMixed,
} from './legacy-parameters.js';
import { findIndex, type IndexSchema } from './secondary-indexes.js';
import {
  encodeKeyValue,
  type KeyAttribute,
  keyAttributesOf,
  keyOfKeyParam,
  type StoredKey,
  type TableSchema,
} from './table-schema.js';

const pageBytes = 1024 * 1024;
/** Rows read from the database per round while a page fills. */
const batchRows = 256;

export async function query(deps: DynamoDeps, input: Input) {
  const schema = await requireSchema(deps, tableNameOf(input));
  refuseMixed(input);
  const index = indexOfRequest(schema, input);
  const scope = new ExpressionScope(
    input.ExpressionAttributeNames,
    input.ExpressionAttributeValues,
  );
  const keyCondition =
    input.KeyConditionExpression === undefined
      ? legacyKeyConditions(input.KeyConditions)
      : parseCondition(input.KeyConditionExpression, 'KeyConditionExpression', scope);
  const { pk, range } = keyRange(index ?? schema, keyCondition);
  const read = readerOf(input, schema, index, scope);
  const forward = input.ScanIndexForward !== false;
  if (index) {
    let after = startPositionOf(schema, index, input);
    return read(
      (limit) => deps.store.queryIndex(schema.name, index.name, pk, range, forward, after, limit),
      (last) => {
        after = positionOf(last);
      },
    );
  }
  let after: Buffer | undefined;
  if (input.ExclusiveStartKey !== undefined) {
    after = keyOfKeyParam(schema, checkItem(input.ExclusiveStartKey)).sk;
  }
  return read(
    (limit) => deps.store.query(schema.name, pk, range, forward, after, limit),
    (last) => {
      after = last.sk;
    },
  );
}

export async function scan(deps: DynamoDeps, input: Input) {
  const schema = await requireSchema(deps, tableNameOf(input));
  refuseMixed(input);
  const index = indexOfRequest(schema, input);
  const segment = segmentOf(input);
  const scope = new ExpressionScope(
    input.ExpressionAttributeNames,
    input.ExpressionAttributeValues,
  );
  const read = readerOf(input, schema, index, scope);
  if (index) {
    let after = startPositionOf(schema, index, input);
    return read(
      (limit) =>
        inSegment(
          segment,
          limit,
          after,
          (from, n) => deps.store.scanIndex(schema.name, index.name, from, n),
          positionOf,
        ),
      (last) => {
        after = positionOf(last);
      },
    );
  }
  let after =
    input.ExclusiveStartKey === undefined
      ? undefined
      : keyOfKeyParam(schema, checkItem(input.ExclusiveStartKey));
  return read(
    (limit) =>
      inSegment(
        segment,
        limit,
        after,
        (from: StoredKey | undefined, n) => deps.store.scan(schema.name, from, n),
        (row) => row,
      ),
    (last) => {
      after = last;
    },
  );
}

interface Segment {
  segment: number;
  total: number;
}

/** Parallel Scan's `Segment` / `TotalSegments`, both or neither, checked as DynamoDB does. */
function segmentOf(input: Input): Segment | undefined {
  const { Segment: segment, TotalSegments: total } = input;
  if (segment === undefined && total === undefined) return undefined;
  if (total === undefined) {
    throw validation(
      'The TotalSegments parameter is required but was not present in the request when Segment parameter is present',
    );
  }
  if (segment === undefined) {
    throw validation(
      'The Segment parameter is required but was not present in the request when parameter TotalSegments is present',
    );
  }
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 1 || total > 1_000_000) {
    throw validation(
      `1 validation error detected: Value '${String(total)}' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000`,
    );
  }
  if (typeof segment !== 'number' || !Number.isInteger(segment) || segment < 0) {
    throw validation(
      `1 validation error detected: Value '${String(segment)}' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0`,
    );
  }
  if (segment >= total) {
    throw validation(
      `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${segment} is not less than TotalSegments: ${total}`,
    );
  }
  return { segment, total };
}

/** The segment a partition belongs to: every item of one partition key is in the same one. */
function segmentOfKey(pk: Buffer, total: number): number {
  return createHash('sha256').update(pk).digest().readUInt32BE(0) % total;
}

/**
 * Up to `limit` rows of one segment after `from`, reading on past other segments' rows; fewer
 * only when the table (or index) has no more, as the page loop expects of every fetch.
 */
async function inSegment<C>(
  segment: Segment | undefined,
  limit: number,
  from: C | undefined,
  fetch: (from: C | undefined, n: number) => Promise<StoredItem[]>,
  cursorOf: (row: StoredItem) => C,
): Promise<StoredItem[]> {
  if (!segment) return fetch(from, limit);
  const out: StoredItem[] = [];
  let cursor = from;
  for (;;) {
    const rows = await fetch(cursor, 500);
    for (const row of rows) {
      if (segmentOfKey(row.pk, segment.total) !== segment.segment) continue;
      out.push(row);
      if (out.length === limit) return out;
    }
    if (rows.length < 500) return out;
    cursor = cursorOf(rows.at(-1)!);
  }
}

function indexOfRequest(schema: TableSchema, input: Input): IndexSchema | undefined {
  if (input.IndexName === undefined) return undefined;
  const index = findIndex(schema, input.IndexName);
  if (!index.local && input.ConsistentRead === true) {
    throw validation('Consistent reads are not supported on global secondary indexes');
  }
  return index;
}

function positionOf(row: StoredItem): IndexPosition {
  return { ipk: row.ipk!, isk: row.isk!, pk: row.pk, sk: row.sk };
}

/** An index's ExclusiveStartKey: the table key and the index key, nothing else. */
function startPositionOf(
  schema: TableSchema,
  index: IndexSchema,
  input: Input,
): IndexPosition | undefined {
  if (input.ExclusiveStartKey === undefined) return undefined;
  const raw = checkItem(input.ExclusiveStartKey);
  const tableNames = [schema.hash.name, schema.range?.name].filter((n) => n !== undefined);
  const indexAttrs = [index.hash, index.range].filter((a) => a !== undefined);
  const all = new Set([...tableNames, ...indexAttrs.map((a) => a.name)]);
  const invalid = () =>
    validation(
      'The provided starting key is invalid: The provided key element does not match the schema',
    );
  if (Object.keys(raw).length !== all.size || [...all].some((n) => raw[n] === undefined))
    throw invalid();
  const tableKey: Item = {};
  for (const n of tableNames) tableKey[n] = raw[n]!;
  const key = keyOfKeyParam(schema, tableKey);
  const part = (a: KeyAttribute | undefined) => {
    if (!a) return Buffer.alloc(0);
    if (Object.keys(raw[a.name]!)[0] !== a.type) throw invalid();
    return encodeKeyValue(raw[a.name]!);
  };
  return { ipk: part(index.hash), isk: part(index.range), ...key };
}

/** The page loop shared by Query and Scan. */
function readerOf(
  input: Input,
  schema: TableSchema,
  index: IndexSchema | undefined,
  scope: ExpressionScope,
) {
  const filter: Condition | undefined =
    input.FilterExpression === undefined
      ? legacyConditions(
          input.QueryFilter ?? input.ScanFilter,
          input.ConditionalOperator,
          input.QueryFilter !== undefined ? 'QueryFilter' : 'ScanFilter',
        )
      : parseCondition(input.FilterExpression, 'FilterExpression', scope);
  const projection =
    input.AttributesToGet === undefined
      ? projectionOf(input, scope)
      : attributesToGetPaths(input.AttributesToGet);
  scope.checkAllUsed();
  const select = enumOf(
    input,
    'Select',
    ['ALL_ATTRIBUTES', 'COUNT', 'SPECIFIC_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES'] as const,
    projection ? 'SPECIFIC_ATTRIBUTES' : index ? 'ALL_PROJECTED_ATTRIBUTES' : 'ALL_ATTRIBUTES',
  );
  if (select === 'ALL_ATTRIBUTES' && index && index.projection.ProjectionType !== 'ALL') {
    throw invalidParameter(
      `Select type ALL_ATTRIBUTES is not supported for ${index.local ? 'local' : 'global'} secondary index ${index.name} because its projection type is not ALL`,
    );
  }
  if (select === 'ALL_PROJECTED_ATTRIBUTES' && !index) {
    throw invalidParameter(
      'ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName',
    );
  }
  const lastKeyOf = (item: Item): Item => {
    const key = keyAttributesOf(schema, item);
    if (index) {
      key[index.hash.name] = item[index.hash.name]!;
      if (index.range) key[index.range.name] = item[index.range.name]!;
    }
    return key;
  };
  const limit = limitOf(input);
  const count = select === 'COUNT';
  const capacity = capacityModeOf(input);
  // A global index is read eventually consistent whatever is asked (ConsistentRead is refused).
  const consistent = input.ConsistentRead === true && !(index && !index.local);
  return async (
    fetch: (n: number) => Promise<StoredItem[]>,
    advance: (last: StoredItem) => void,
  ) => {
    // The answer is written as JSON text: an item sent whole is its stored text, unparsed.
    const items: string[] = [];
    let matched = 0;
    let scanned = 0;
    const bytes = new PageBytes();
    let last: StoredItem | undefined;
    let more = false;
    let readBytes = 0;
    for (;;) {
      const want = limit === undefined ? batchRows : Math.min(batchRows, limit - scanned);
      const rows = await fetch(want + 1);
      const taken = rows.length > want ? rows.slice(0, want) : rows;
      for (const row of taken) {
        scanned++;
        bytes.add(row);
        if (capacity !== 'NONE') readBytes += itemSize(row.item);
        last = row;
        if (!filter || evaluateCondition(row.item, filter)) {
          matched++;
          if (!count)
            items.push(projection ? JSON.stringify(project(row.item, projection)) : row.text);
        }
        if (bytes.full) break;
      }
      const stoppedEarly = last !== taken.at(-1) || bytes.full;
      if (stoppedEarly) {
        more = true;
        break;
      }
      if (rows.length <= want) break;
      if (limit !== undefined && scanned >= limit) {
        more = true;
        break;
      }
      advance(last!);
    }
    const lastKey =
      more && last ? `,"LastEvaluatedKey":${JSON.stringify(lastKeyOf(last.item))}` : '';
    let consumed = '';
    if (capacity !== 'NONE') {
      // The units go to what was read: the index, or the table.
      const c = new Consumption(schema);
      const units = readUnits(readBytes, consistent);
      if (index) c.addIndex(index.name, index.local, units);
      else c.table = units;
      consumed = `,"ConsumedCapacity":${JSON.stringify(c.answer(capacity))}`;
    }
    return new JsonText(
      `{${count ? '' : `"Items":[${items.join(',')}],`}"Count":${matched},"ScannedCount":${scanned}${lastKey}${consumed}}`,
    );
  };
}

/**
 * The bytes a page has read, by DynamoDB's item size (attribute-value.ts itemSize), to end it
 * at 1 MB. Sizing every item means walking it; a bound from its stored text's length
 * (itemSizeBound) is summed instead, and items are sized exactly only once the bound reaches
 * 1 MB: from then on the sum is exact, and the page ends exactly where it did.
 */
class PageBytes {
  #total = 0;
  #exact = false;
  /** The rows summed by their bound, while it is below a page. */
  readonly #bounded: StoredItem[] = [];

  add(row: StoredItem): void {
    if (this.#exact) {
      this.#total += itemSize(row.item);
      return;
    }
    this.#total += itemSizeBound(row.text);
    this.#bounded.push(row);
    if (this.#total < pageBytes) return;
    this.#exact = true;
    this.#total = 0;
    for (const r of this.#bounded) this.#total += itemSize(r.item);
    this.#bounded.length = 0;
  }

  get full(): boolean {
    return this.#exact && this.#total >= pageBytes;
  }
}

/** The partition key value and sort-key range of a KeyConditionExpression (table or index). */
function keyRange(
  schema: { hash: KeyAttribute; range?: KeyAttribute },
  c: Condition,
): { pk: Buffer; range: SortRange } {
  const parts = c.kind === 'and' ? [c.a, c.b] : [c];
  let pk: Buffer | undefined;
  let range: SortRange | undefined;
  const nameOf = (o: Operand) =>
    o.kind === 'path' && o.elements.length === 1 ? (o.elements[0] as string) : undefined;
  const keyValueOf = (o: Operand, type: string) => {
    if (o.kind !== 'value' || Object.keys(o.value)[0] !== type) {
      throw invalidParameter('Condition parameter type does not match schema type');
    }
    return encodeKeyValue(o.value);
  };
  for (const part of parts) {
    if (part.kind === 'cmp' && nameOf(part.a) === schema.hash.name && part.op === '=') {
      if (pk)
        throw invalidParameter(
          'Invalid KeyConditionExpression: The primary key attribute may only appear once',
        );
      pk = keyValueOf(part.b, schema.hash.type);
      continue;
    }
    const sort = schema.range;
    const name =
      part.kind === 'cmp' || part.kind === 'between'
        ? nameOf(part.a)
        : part.kind === 'fn'
          ? nameOf(part.args[0]!)
          : undefined;
    if (!sort || name !== sort.name || range) {
      throw invalidParameter(
        name === undefined || (sort && name === sort.name)
          ? 'Invalid KeyConditionExpression: Only simple key conditions are supported (=, <, <=, >, >=, BETWEEN, begins_with)'
          : `Query condition missed key schema element: ${sort?.name ?? schema.hash.name}`,
      );
    }
    if (part.kind === 'cmp') {
      const v = keyValueOf(part.b, sort.type);
      if (part.op === '<>')
        throw invalidParameter(
          'Invalid KeyConditionExpression: Unsupported operator on KeyConditionExpression: operator: <>',
        );
      range =
        part.op === '='
          ? { lower: { value: v, inclusive: true }, upper: { value: v, inclusive: true } }
          : part.op === '<' || part.op === '<='
            ? { upper: { value: v, inclusive: part.op === '<=' } }
            : { lower: { value: v, inclusive: part.op === '>=' } };
    } else if (part.kind === 'between') {
      const low = keyValueOf(part.low, sort.type);
      const high = keyValueOf(part.high, sort.type);
      if (Buffer.compare(low, high) > 0) {
        throw validation(
          'Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound',
        );
      }
      range = { lower: { value: low, inclusive: true }, upper: { value: high, inclusive: true } };
    } else if (part.kind === 'fn' && part.name === 'begins_with') {
      if (sort.type === 'N')
        throw invalidParameter(
          'Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
        );
      const prefix = keyValueOf(part.args[1]!, sort.type);
      const end = prefixEnd(prefix);
      range = {
        lower: { value: prefix, inclusive: true },
        ...(end ? { upper: { value: end, inclusive: false } } : {}),
      };
    } else {
      throw invalidParameter(
        'Invalid KeyConditionExpression: Only simple key conditions are supported (=, <, <=, >, >=, BETWEEN, begins_with)',
      );
    }
  }
  if (!pk) throw invalidParameter(`Query condition missed key schema element: ${schema.hash.name}`);
  return { pk, range: range ?? {} };
}

/** The smallest byte string greater than every string starting with `prefix` (none if all 0xff). */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  const out = Buffer.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i]! += 1;
      return out.subarray(0, i + 1);
    }
  }
  return undefined;
}
