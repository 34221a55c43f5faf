/** PutItem, GetItem, UpdateItem, DeleteItem. */
import { JsonText } from '../../platform/aws/protocols/aws-json.js';
import { type Item, itemSize } from './attribute-value.js';
import { Consumption, capacityModeOf, consumedField, readUnits } from './consumed-capacity.js';
import {
  type DynamoDeps,
  enumOf,
  type Input,
  requiredItem,
  requireSchema,
  tableNameOf,
} from './dynamodb-call.js';
import { project } from './expression-eval.js';
import { ExpressionScope, parseProjection } from './expression-parser.js';
import { attributesToGetPaths, refuseMixed } from './legacy-parameters.js';
import { keyOfKeyParam } from './table-schema.js';
import { checkPlanCondition, planWrite, type WriteKind } from './write-plans.js';

const returnValuesOf: Record<string, readonly string[]> = {
  Put: ['NONE', 'ALL_OLD'],
  Delete: ['NONE', 'ALL_OLD'],
  Update: ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'],
};

async function writeItem(
  deps: DynamoDeps,
  kind: Exclude<WriteKind, 'ConditionCheck'>,
  input: Input,
) {
  const schema = await requireSchema(deps, tableNameOf(input));
  const returnValues = enumOf(input, 'ReturnValues', returnValuesOf[kind]!, 'NONE');
  const plan = planWrite(kind, schema, input);
  const capacity = capacityModeOf(input);
  // A plain PutItem (no condition, nothing returned, no capacity asked: that needs the old
  // item's size) replaces the item whatever it was: the item as found is not read (the writer
  // still reads it for a stream's old image).
  const blindPut =
    kind === 'Put' && !plan.condition && returnValues === 'NONE' && capacity === 'NONE';
  const { before, after } = await deps.store.write(
    [{ table: plan.table, key: plan.key }],
    async (w) => {
      if (blindPut) {
        const item = plan.next(undefined) as Item;
        await w.put(plan.schema, plan.key, item, undefined, plan.text);
        return { before: undefined, after: item };
      }
      const existing = await w.get(plan.table, plan.key);
      checkPlanCondition(plan, existing);
      const next = plan.next(existing);
      const found = { item: existing };
      if (next === undefined) await w.delete(plan.schema, plan.key, undefined, found);
      else if (next !== 'keep') await w.put(plan.schema, plan.key, next, found);
      return { before: existing, after: next === 'keep' ? existing : next };
    },
    // A blind put to a table without indexes fails only if the database does (an index entry
    // can refuse a bad key): it needs no savepoint of its own.
    { isolated: !blindPut || plan.schema.indexes.length > 0 },
  );
  const attributes = returned(returnValues, before, after);
  const answer = attributes ? { Attributes: attributes } : {};
  if (capacity === 'NONE') return answer;
  const consumed = new Consumption(plan.schema);
  consumed.addWrite(before, after);
  return { ...answer, ...consumedField(capacity, consumed) };
}

function returned(
  mode: string,
  before: Item | undefined,
  after: Item | undefined,
): Item | undefined {
  switch (mode) {
    case 'ALL_OLD':
      return before;
    case 'ALL_NEW':
      return after;
    case 'UPDATED_OLD':
    case 'UPDATED_NEW': {
      const from = mode === 'UPDATED_OLD' ? before : after;
      const other = mode === 'UPDATED_OLD' ? after : before;
      if (!from) return undefined;
      const out: Item = {};
      for (const [k, v] of Object.entries(from)) {
        if (JSON.stringify(other?.[k]) !== JSON.stringify(v)) out[k] = v;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    default:
      return undefined;
  }
}

export const putItem = (deps: DynamoDeps, input: Input) => writeItem(deps, 'Put', input);
export const updateItem = (deps: DynamoDeps, input: Input) => writeItem(deps, 'Update', input);
export const deleteItem = (deps: DynamoDeps, input: Input) => writeItem(deps, 'Delete', input);

export async function getItem(deps: DynamoDeps, input: Input) {
  const schema = await requireSchema(deps, tableNameOf(input));
  refuseMixed(input);
  const key = keyOfKeyParam(schema, requiredItem(input, 'Key'));
  const projection =
    input.AttributesToGet === undefined
      ? projectionOf(input)
      : attributesToGetPaths(input.AttributesToGet);
  const capacity = capacityModeOf(input);
  if (!projection && capacity === 'NONE') {
    // The whole item: its stored text goes out as it is, not parsed to be stringified again.
    const text = await deps.store.getItemText(schema.name, key);
    return text === undefined ? {} : new JsonText(`{"Item":${text}}`);
  }
  const item = await deps.store.getItem(schema.name, key);
  const consumed = new Consumption(schema);
  consumed.table = readUnits(item ? itemSize(item) : 0, input.ConsistentRead === true);
  const used = consumedField(capacity, consumed);
  if (!item) return used;
  return { Item: projection ? project(item, projection) : item, ...used };
}

/** ProjectionExpression with its names, checked for unused names. */
export function projectionOf(input: Input, scope?: ExpressionScope) {
  const own = scope ?? new ExpressionScope(input.ExpressionAttributeNames, undefined);
  const paths =
    input.ProjectionExpression === undefined
      ? undefined
      : parseProjection(input.ProjectionExpression, own);
  if (!scope) own.checkAllUsed();
  return paths;
}
