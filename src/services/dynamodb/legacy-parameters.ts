/**
 * The parameters DynamoDB had before expressions, which old code still sends: `Expected` (with
 * `ConditionalOperator`), `AttributeUpdates`, `KeyConditions`, `QueryFilter` / `ScanFilter`,
 * `AttributesToGet`. Each is translated into the parsed form of its expression counterpart, so
 * both mean exactly the same thing. A request mixing the two kinds is refused, as DynamoDB does.
 */
import { type AttributeValue, checkValue } from './attribute-value.js';
import type { Input } from './dynamodb-call.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import type { Condition, Operand, Path, UpdateAction } from './expression-parser.js';

const expressionFields = [
  'ConditionExpression',
  'UpdateExpression',
  'KeyConditionExpression',
  'FilterExpression',
  'ProjectionExpression',
];
const legacyFields = [
  'Expected',
  'AttributeUpdates',
  'KeyConditions',
  'QueryFilter',
  'ScanFilter',
  'AttributesToGet',
  'ConditionalOperator',
];

/** DynamoDB's refusal of a request using both kinds of parameters. */
export function refuseMixed(input: Input): void {
  const legacy = legacyFields.filter((f) => input[f] !== undefined);
  if (legacy.length === 0) return;
  const expressions = [
    ...expressionFields,
    'ExpressionAttributeNames',
    'ExpressionAttributeValues',
  ].filter((f) => input[f] !== undefined);
  if (expressions.length > 0) {
    throw validation(
      `Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${legacy.join(', ')}} Expression parameters: {${expressions.join(', ')}}`,
    );
  }
}

const path = (name: string): Path => ({ kind: 'path', elements: [name] });
const value = (v: AttributeValue): Operand => ({ kind: 'value', value: v });

interface LegacyCondition {
  ComparisonOperator?: unknown;
  AttributeValueList?: unknown;
  Value?: unknown;
  Exists?: unknown;
}

/** `Expected` / `QueryFilter` / `ScanFilter`: conditions on attributes, joined by AND or OR. */
export function legacyConditions(
  raw: unknown,
  operator: unknown,
  field: string,
): Condition | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw validation(`${field} must be a map`);
  const join = operator ?? 'AND';
  if (join !== 'AND' && join !== 'OR') {
    throw validation(
      `1 validation error detected: Value '${String(join)}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]`,
    );
  }
  const parts = Object.entries(raw as Record<string, LegacyCondition>).map(([name, c]) =>
    field === 'Expected' ? expectedCondition(name, c ?? {}) : comparison(name, c ?? {}),
  );
  if (parts.length === 0) return undefined;
  if (parts.length === 1 && operator !== undefined) {
    throw invalidParameter(
      'ConditionalOperator can only be used when Filter or Expected has two or more elements',
    );
  }
  return parts.reduce((a, b) => ({ kind: join === 'AND' ? 'and' : 'or', a, b }));
}

function expectedCondition(name: string, c: LegacyCondition): Condition {
  if (c.ComparisonOperator !== undefined) {
    if (c.Value !== undefined || c.Exists !== undefined) {
      throw invalidParameter(
        `One or more parameter values were invalid: Value or Exists cannot be used with ComparisonOperator for Attribute: ${name}`,
      );
    }
    return comparison(name, c);
  }
  const exists = c.Exists ?? true;
  if (exists === false) {
    if (c.Value !== undefined) {
      throw invalidParameter(`Value cannot be used when Exists is false for Attribute: ${name}`);
    }
    return { kind: 'fn', name: 'attribute_not_exists', args: [path(name)] };
  }
  if (c.Value === undefined) {
    throw invalidParameter(`Value must be provided when Exists is true for Attribute: ${name}`);
  }
  return { kind: 'cmp', op: '=', a: path(name), b: value(checkValue(c.Value)) };
}

const argCounts: Record<string, number | 'many'> = {
  EQ: 1,
  NE: 1,
  LE: 1,
  LT: 1,
  GE: 1,
  GT: 1,
  NOT_NULL: 0,
  NULL: 0,
  CONTAINS: 1,
  NOT_CONTAINS: 1,
  BEGINS_WITH: 1,
  IN: 'many',
  BETWEEN: 2,
};

/** One `{ComparisonOperator, AttributeValueList}` on the attribute `name`. */
export function comparison(name: string, c: LegacyCondition): Condition {
  const op = String(c.ComparisonOperator);
  const count = argCounts[op];
  if (count === undefined) {
    throw validation(
      `1 validation error detected: Value '${op}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [${Object.keys(argCounts).join(', ')}]`,
    );
  }
  const list = c.AttributeValueList === undefined ? [] : c.AttributeValueList;
  if (!Array.isArray(list)) throw validation('AttributeValueList must be a list');
  const values = list.map(checkValue);
  if (count === 'many' ? values.length === 0 : values.length !== count) {
    throw invalidParameter(`Invalid number of argument(s) for the ${op} ComparisonOperator`);
  }
  const a = path(name);
  const [v0, v1] = values.map(value);
  switch (op) {
    case 'EQ':
      return { kind: 'cmp', op: '=', a, b: v0! };
    case 'NE':
      return { kind: 'cmp', op: '<>', a, b: v0! };
    case 'LE':
      return { kind: 'cmp', op: '<=', a, b: v0! };
    case 'LT':
      return { kind: 'cmp', op: '<', a, b: v0! };
    case 'GE':
      return { kind: 'cmp', op: '>=', a, b: v0! };
    case 'GT':
      return { kind: 'cmp', op: '>', a, b: v0! };
    case 'NOT_NULL':
      return { kind: 'fn', name: 'attribute_exists', args: [a] };
    case 'NULL':
      return { kind: 'fn', name: 'attribute_not_exists', args: [a] };
    case 'CONTAINS':
      return { kind: 'fn', name: 'contains', args: [a, v0!] };
    case 'NOT_CONTAINS':
      return { kind: 'not', a: { kind: 'fn', name: 'contains', args: [a, v0!] } };
    case 'BEGINS_WITH':
      return { kind: 'fn', name: 'begins_with', args: [a, v0!] };
    case 'IN':
      return { kind: 'in', a, list: values.map(value) };
    default:
      return { kind: 'between', a, low: v0!, high: v1! };
  }
}

/** `KeyConditions`: the key conditions, joined by AND (the only way keys combine). */
export function legacyKeyConditions(raw: unknown): Condition {
  if (typeof raw !== 'object' || raw === null || Object.keys(raw).length === 0) {
    throw validation(
      'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
    );
  }
  const parts = Object.entries(raw as Record<string, LegacyCondition>).map(([name, c]) =>
    comparison(name, c ?? {}),
  );
  return parts.reduce((a, b) => ({ kind: 'and', a, b }));
}

/** `AttributeUpdates`: PUT, ADD, DELETE (of set members, or of the attribute without a Value). */
export function legacyUpdates(raw: unknown): UpdateAction[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw validation('AttributeUpdates must be a map');
  return Object.entries(raw as Record<string, { Action?: unknown; Value?: unknown }>).map(
    ([name, u]) => {
      const action = u?.Action ?? 'PUT';
      const v = u?.Value === undefined ? undefined : checkValue(u.Value);
      switch (action) {
        case 'PUT':
          if (!v)
            throw invalidParameter(
              `Only DELETE action is allowed when no attribute value is specified: ${name}`,
            );
          return { kind: 'SET', path: path(name), value: value(v) };
        case 'ADD':
          if (!v)
            throw invalidParameter(
              `Only DELETE action is allowed when no attribute value is specified: ${name}`,
            );
          return { kind: 'ADD', path: path(name), value: value(v) };
        case 'DELETE':
          return v
            ? { kind: 'DELETE', path: path(name), value: value(v) }
            : { kind: 'REMOVE', path: path(name) };
        default:
          throw validation(
            `1 validation error detected: Value '${String(action)}' at 'attributeUpdates.${name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]`,
          );
      }
    },
  );
}

/** The legacy `AttributesToGet`: top-level names, as projection paths. */
export function attributesToGetPaths(raw: unknown): Path[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.some((n) => typeof n !== 'string')) {
    throw validation(
      "1 validation error detected: Value at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  if (new Set(raw).size !== raw.length) {
    throw validation(
      `One or more parameter values were invalid: Duplicate value in attribute name: ${raw.find((n, i) => raw.indexOf(n) !== i)}`,
    );
  }
  return (raw as string[]).map((name) => ({ kind: 'path', elements: [name] }));
}
