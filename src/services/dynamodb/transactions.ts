/**
 * TransactWriteItems and TransactGetItems. A write transaction checks every condition on the
 * items as they are, inside one store transaction holding every item's lock, and writes all or
 * nothing; a refusal names, in request order, why each item would fail
 * (`TransactionCanceledException` with `CancellationReasons`). A `ClientRequestToken` makes a
 * retry within ten minutes answer success without writing again.
 */
import { createHash } from 'node:crypto';
import { AwsError } from '../../platform/aws/aws-error.js';
import { type Item, itemSize } from './attribute-value.js';
import { ConsumptionByTable, capacityModeOf, readUnits } from './consumed-capacity.js';
import {
  type DynamoDeps,
  type Input,
  requiredItem,
  requireSchema,
  tableNameOf,
} from './dynamodb-call.js';
import { type CancellationReason, transactionCanceled, validation } from './dynamodb-errors.js';
import { tokenLockTable } from './dynamodb-store.js';
import { evaluateCondition, project } from './expression-eval.js';
import type { Path } from './expression-parser.js';
import { projectionOf } from './item-operations.js';
import { keyOfKeyParam, type StoredKey } from './table-schema.js';
import { planWrite, type WriteKind, type WritePlan } from './write-plans.js';

export const maxTransactionItems = 100;
/** How long DynamoDB remembers a ClientRequestToken. */
export const clientTokenMillis = 10 * 60 * 1000;

const writeKinds: WriteKind[] = ['Put', 'Update', 'Delete', 'ConditionCheck'];

export async function transactWriteItems(deps: DynamoDeps, input: Input) {
  const items = transactItemsOf(input);
  const token = clientTokenOf(input);
  const plans: WritePlan[] = [];
  for (const entry of items) {
    const kinds = writeKinds.filter((k) => entry[k] !== undefined);
    if (kinds.length !== 1) {
      throw validation('TransactItems can only contain one of Check, Put, Update or Delete');
    }
    const kind = kinds[0]!;
    const inner = entry[kind] as Input;
    const schema = await requireSchema(deps, tableNameOf(inner));
    plans.push(planWrite(kind, schema, inner));
  }
  const seen = new Set<string>();
  for (const p of plans) {
    const id = `${p.table}\0${p.key.pk.toString('hex')}\0${p.key.sk.toString('hex')}`;
    if (seen.has(id)) {
      throw validation('Transaction request cannot include multiple operations on one item');
    }
    seen.add(id);
  }
  const locks = plans.map((p) => ({ table: p.table, key: p.key }));
  if (token)
    locks.push({ table: tokenLockTable, key: { pk: Buffer.from(token), sk: Buffer.alloc(0) } });
  const requestHash = createHash('sha256').update(JSON.stringify(items)).digest('hex');
  const capacity = capacityModeOf(input);
  const consumed = new ConsumptionByTable();
  await deps.store.write(locks, async (w) => {
    consumed.clear(); // a batch run again (group-commit.ts) counts once
    const now = deps.clock.now();
    if (token) {
      const previous = await w.tokenHash(token, now - clientTokenMillis);
      if (previous === requestHash) return;
      if (previous !== undefined) {
        throw new AwsError(
          400,
          'IdempotentParameterMismatchException',
          'Request parameters do not match the previous request made with this ClientRequestToken',
        );
      }
    }
    const found = await Promise.all(plans.map((p) => w.get(p.table, p.key)));
    const reasons: CancellationReason[] = [];
    const nexts: (Item | undefined | 'keep')[] = [];
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      const existing = found[i];
      if (plan.condition && !evaluateCondition(existing ?? {}, plan.condition)) {
        reasons.push({
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(plan.returnOnFailure && existing ? { Item: existing } : {}),
        });
        nexts.push('keep');
        continue;
      }
      try {
        nexts.push(plan.next(existing));
        reasons.push({ Code: 'None' });
      } catch (error) {
        if (!(error instanceof AwsError) || error.awsCode !== 'ValidationException') throw error;
        reasons.push({ Code: 'ValidationError', Message: error.message });
        nexts.push('keep');
      }
    }
    if (reasons.some((r) => r.Code !== 'None')) throw transactionCanceled(reasons);
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      const next = nexts[i];
      if (next === undefined) await w.delete(plan.schema, plan.key);
      else if (next !== 'keep') await w.put(plan.schema, plan.key, next);
      if (capacity !== 'NONE') {
        // Every item of a transaction, a ConditionCheck too, is two writes of its size.
        consumed.of(plan.schema).addWrite(found[i], next === 'keep' ? found[i] : next, 2);
      }
    }
    if (token) await w.recordToken(token, requestHash, now, now - clientTokenMillis);
  });
  return consumed.answer(capacity);
}

export async function transactGetItems(deps: DynamoDeps, input: Input) {
  const items = transactItemsOf(input);
  const gets: {
    table: string;
    key: StoredKey;
    projection?: Path[];
    schema: Awaited<ReturnType<typeof requireSchema>>;
  }[] = [];
  for (const entry of items) {
    const get = entry.Get as Input | undefined;
    if (get === undefined || Object.keys(entry).length !== 1) {
      throw validation('TransactItems can only contain a Get');
    }
    const schema = await requireSchema(deps, tableNameOf(get));
    const key = keyOfKeyParam(schema, requiredItem(get, 'Key'));
    gets.push({ table: schema.name, key, projection: projectionOf(get), schema });
  }
  // Read in one transaction, so the items are a snapshot of one moment.
  const found = await deps.store.write([], (w) =>
    Promise.all(gets.map((g) => w.get(g.table, g.key))),
  );
  const capacity = capacityModeOf(input);
  const consumed = new ConsumptionByTable();
  found.forEach((item, i) => {
    // A transactional read is two strongly consistent reads.
    consumed.of(gets[i]!.schema).table += 2 * readUnits(item ? itemSize(item) : 0, true);
  });
  return {
    ...consumed.answer(capacity),
    Responses: found.map((item, i) => {
      if (!item) return {};
      const projection = gets[i]!.projection;
      return { Item: projection ? project(item, projection) : item };
    }),
  };
}

function transactItemsOf(input: Input): Record<string, unknown>[] {
  const items = input.TransactItems;
  if (!Array.isArray(items)) {
    throw validation(
      "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
    );
  }
  if (items.length < 1 || items.length > maxTransactionItems) {
    throw validation(
      `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length ${
        items.length < 1
          ? 'greater than or equal to 1'
          : `less than or equal to ${maxTransactionItems}`
      }`,
    );
  }
  return items.map((i) => (i ?? {}) as Record<string, unknown>);
}

function clientTokenOf(input: Input): string | undefined {
  const token = input.ClientRequestToken;
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token.length < 1 || token.length > 36) {
    throw validation(
      `1 validation error detected: Value '${String(token)}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36`,
    );
  }
  return token;
}
