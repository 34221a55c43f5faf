/**
 * Put, Update, Delete and ConditionCheck as plans: the key they touch, and what they do to the
 * item found there. PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems all
 * run the same plans, so a condition or an update means the same thing everywhere.
 */
import type { Item } from './attribute-value.js';
import { checkItemSize, type Input, requiredItem } from './dynamodb-call.js';
import { conditionFailed, validation } from './dynamodb-errors.js';
import { applyUpdate, evaluateCondition } from './expression-eval.js';
import {
  type Condition,
  ExpressionScope,
  parseCondition,
  parseUpdate,
  type UpdateAction,
} from './expression-parser.js';
import { legacyConditions, legacyUpdates, refuseMixed } from './legacy-parameters.js';
import {
  keyAttributesOf,
  keyOfItem,
  keyOfKeyParam,
  type StoredKey,
  type TableSchema,
} from './table-schema.js';

export type WriteKind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';

export interface WritePlan {
  table: string;
  schema: TableSchema;
  key: StoredKey;
  /** The condition, if any, to check on the item as found. */
  condition?: Condition;
  /** The item to store (undefined: delete it; 'keep': leave it as it is). */
  next(existing: Item | undefined): Item | undefined | 'keep';
  returnOnFailure: boolean;
  /** A Put's item as JSON text, stringified once for its size check and its row. */
  text?: string;
}

export function planWrite(kind: WriteKind, schema: TableSchema, input: Input): WritePlan {
  refuseMixed(input);
  const scope = new ExpressionScope(
    input.ExpressionAttributeNames,
    input.ExpressionAttributeValues,
  );
  const condition =
    input.ConditionExpression === undefined
      ? legacyConditions(input.Expected, input.ConditionalOperator, 'Expected')
      : parseCondition(input.ConditionExpression, 'ConditionExpression', scope);
  const returnOnFailure = input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD';
  const base = { table: schema.name, schema, condition, returnOnFailure };
  switch (kind) {
    case 'Put': {
      const item = requiredItem(input, 'Item');
      const key = keyOfItem(schema, item);
      const text = JSON.stringify(item);
      checkItemSize(item, text);
      scope.checkAllUsed();
      return { ...base, key, next: () => item, text };
    }
    case 'Delete':
    case 'ConditionCheck': {
      const keyItem = requiredItem(input, 'Key');
      const key = keyOfKeyParam(schema, keyItem);
      if (kind === 'ConditionCheck' && !condition) {
        throw validation('The ConditionExpression of a ConditionCheck must be present');
      }
      scope.checkAllUsed();
      return { ...base, key, next: () => (kind === 'Delete' ? undefined : 'keep') };
    }
    case 'Update': {
      const keyItem = requiredItem(input, 'Key');
      const key = keyOfKeyParam(schema, keyItem);
      const actions: UpdateAction[] =
        input.UpdateExpression !== undefined
          ? parseUpdate(input.UpdateExpression, scope)
          : input.AttributeUpdates !== undefined
            ? legacyUpdates(input.AttributeUpdates)
            : [];
      const keyNames = [schema.hash.name, schema.range?.name];
      for (const a of actions) {
        const top = a.path.elements[0];
        if (keyNames.includes(top as string)) {
          throw validation(
            `One or more parameter values were invalid: Cannot update attribute ${top}. This attribute is part of the key`,
          );
        }
      }
      scope.checkAllUsed();
      return {
        ...base,
        key,
        next: (existing) => {
          const updated = applyUpdate(existing ?? keyItem, actions);
          checkItemSize(updated);
          return updated;
        },
      };
    }
  }
}

/** The condition of a plan against the item as found; throws ConditionalCheckFailed. */
export function checkPlanCondition(plan: WritePlan, existing: Item | undefined): void {
  if (plan.condition && !evaluateCondition(existing ?? {}, plan.condition)) {
    throw conditionFailed(plan.returnOnFailure ? existing : undefined);
  }
}

export { keyAttributesOf };
