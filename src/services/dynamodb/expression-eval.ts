/**
 * Parsed expressions applied to items: conditions evaluated as DynamoDB does (a comparison of
 * missing or mismatched types is false, never an error), update actions applied to a copy of the
 * item, projections cut from it.
 */
import {
  type AttributeValue,
  compareScalars,
  type Item,
  membersEqual,
  setMembers,
  typeOf,
  valuesEqual,
} from './attribute-value.js';
import { addDecimals, formatDecimal, negate, parseDecimal } from './decimal.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import type { Condition, Operand, Path, UpdateAction } from './expression-parser.js';

export function resolvePath(item: Item, path: Path): AttributeValue | undefined {
  let current: AttributeValue | undefined = { M: item };
  for (const element of path.elements) {
    if (current === undefined) return undefined;
    current = childOf(current, element);
  }
  return current;
}

function childOf(value: AttributeValue, element: string | number): AttributeValue | undefined {
  if (typeof element === 'number')
    return 'L' in value ? (value.L as AttributeValue[])[element] : undefined;
  return 'M' in value ? (value.M as Item)[element] : undefined;
}

function operandValue(item: Item, operand: Operand): AttributeValue | undefined {
  switch (operand.kind) {
    case 'path':
      return resolvePath(item, operand);
    case 'value':
      return operand.value;
    case 'size': {
      const v = resolvePath(item, operand.path);
      if (v === undefined) return undefined;
      let size: number | undefined;
      if ('S' in v) size = Buffer.byteLength(v.S);
      else if ('B' in v) size = Buffer.from(v.B, 'base64').length;
      else if ('L' in v) size = v.L.length;
      else if ('M' in v) size = Object.keys(v.M).length;
      else if ('SS' in v || 'NS' in v || 'BS' in v) size = setMembers(v).length;
      return size === undefined ? undefined : { N: String(size) };
    }
    default:
      return updateValue(item, operand);
  }
}

export function evaluateCondition(item: Item, c: Condition): boolean {
  switch (c.kind) {
    case 'and':
      return evaluateCondition(item, c.a) && evaluateCondition(item, c.b);
    case 'or':
      return evaluateCondition(item, c.a) || evaluateCondition(item, c.b);
    case 'not':
      return !evaluateCondition(item, c.a);
    case 'cmp': {
      const a = operandValue(item, c.a);
      const b = operandValue(item, c.b);
      if (a === undefined || b === undefined) return false;
      if (c.op === '=') return valuesEqual(a, b);
      if (c.op === '<>') return !valuesEqual(a, b);
      const order = compareScalars(a, b);
      if (order === undefined) return false;
      return c.op === '<'
        ? order < 0
        : c.op === '<='
          ? order <= 0
          : c.op === '>'
            ? order > 0
            : order >= 0;
    }
    case 'between': {
      const a = operandValue(item, c.a);
      const low = operandValue(item, c.low);
      const high = operandValue(item, c.high);
      if (a === undefined || low === undefined || high === undefined) return false;
      const bounds = compareScalars(low, high);
      if (bounds !== undefined && bounds > 0) {
        throw invalidParameter(
          `Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: ${JSON.stringify(low)}, upper bound operand: AttributeValue: ${JSON.stringify(high)}`,
        );
      }
      const lo = compareScalars(a, low);
      const hi = compareScalars(a, high);
      return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    }
    case 'in': {
      const a = operandValue(item, c.a);
      if (a === undefined) return false;
      return c.list.some((o) => {
        const v = operandValue(item, o);
        return v !== undefined && valuesEqual(a, v);
      });
    }
    case 'fn': {
      const path = c.args[0] as Path;
      const v = resolvePath(item, path);
      switch (c.name) {
        case 'attribute_exists':
          return v !== undefined;
        case 'attribute_not_exists':
          return v === undefined;
        case 'attribute_type': {
          const t = operandValue(item, c.args[1]!);
          if (!t || !('S' in t))
            throw invalidParameter(
              'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: not S',
            );
          if (!['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'].includes(t.S)) {
            throw invalidParameter(
              `Invalid ConditionExpression: Invalid attribute type name found; type: ${t.S}, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M };`,
            );
          }
          return v !== undefined && typeOf(v) === t.S;
        }
        case 'begins_with': {
          const prefix = operandValue(item, c.args[1]!);
          if (v === undefined || prefix === undefined) return false;
          if ('S' in v && 'S' in prefix) return v.S.startsWith(prefix.S);
          if ('B' in v && 'B' in prefix) {
            const bytes = Buffer.from(v.B, 'base64');
            const p = Buffer.from(prefix.B, 'base64');
            return bytes.subarray(0, p.length).equals(p);
          }
          return false;
        }
        case 'contains': {
          const needle = operandValue(item, c.args[1]!);
          if (v === undefined || needle === undefined) return false;
          if ('S' in v) return 'S' in needle && v.S.includes(needle.S);
          if ('B' in v)
            return (
              'B' in needle && Buffer.from(v.B, 'base64').includes(Buffer.from(needle.B, 'base64'))
            );
          if ('SS' in v || 'NS' in v || 'BS' in v) {
            const memberType = typeOf(v).slice(0, 1);
            if (typeOf(needle) !== memberType) return false;
            const n = (needle as Record<string, string>)[memberType]!;
            return setMembers(v).some((m) => membersEqual(typeOf(v), m, n));
          }
          if ('L' in v) return v.L.some((e) => valuesEqual(e, needle));
          return false;
        }
      }
    }
  }
}

function updateValue(item: Item, operand: Operand): AttributeValue {
  switch (operand.kind) {
    case 'path': {
      const v = resolvePath(item, operand);
      if (v === undefined) {
        throw validation(
          'The provided expression refers to an attribute that does not exist in the item',
        );
      }
      return v;
    }
    case 'value':
      return operand.value;
    case 'if_not_exists':
      return resolvePath(item, operand.path) ?? updateValue(item, operand.fallback);
    case 'list_append': {
      const a = updateValue(item, operand.a);
      const b = updateValue(item, operand.b);
      if (!('L' in a) || !('L' in b)) {
        throw validation('An operand in the update expression has an incorrect data type');
      }
      return { L: [...a.L, ...b.L] };
    }
    case 'arith': {
      const a = updateValue(item, operand.a);
      const b = updateValue(item, operand.b);
      if (!('N' in a) || !('N' in b)) {
        throw validation('An operand in the update expression has an incorrect data type');
      }
      const right = parseDecimal(b.N);
      return {
        N: formatDecimal(
          addDecimals(parseDecimal(a.N), operand.op === '+' ? right : negate(right)),
        ),
      };
    }
    case 'size':
      throw validation('size is not allowed in an update expression');
  }
}

/** The item after the update actions, computed against the item as it was (as DynamoDB does). */
export function applyUpdate(original: Item, actions: UpdateAction[]): Item {
  const item = structuredClone(original);
  // Every right-hand side reads the item before any action of this update.
  const computed = actions.map((a) =>
    a.kind === 'REMOVE' ? undefined : updateValue(original, a.value),
  );
  // REMOVE of list elements runs from the highest index, so earlier removals keep later indexes valid.
  const order = actions.map((_a, i) => i);
  order.sort((i, j) => removalIndex(actions[j]!) - removalIndex(actions[i]!));
  for (const i of order) {
    const action = actions[i]!;
    const value = computed[i];
    switch (action.kind) {
      case 'SET':
        setPath(item, action.path, value!);
        break;
      case 'REMOVE':
        removePath(item, action.path);
        break;
      case 'ADD': {
        const existing = resolvePath(item, action.path);
        setPath(item, action.path, addTo(existing, value!));
        break;
      }
      case 'DELETE': {
        const existing = resolvePath(item, action.path);
        const rest = deleteFrom(existing, value!);
        if (rest === undefined) removePath(item, action.path);
        else setPath(item, action.path, rest);
        break;
      }
    }
  }
  return item;
}

function removalIndex(a: UpdateAction): number {
  if (a.kind !== 'REMOVE') return -1;
  const last = a.path.elements.at(-1);
  return typeof last === 'number' ? last : -1;
}

function addTo(existing: AttributeValue | undefined, value: AttributeValue): AttributeValue {
  if ('N' in value) {
    if (existing === undefined) return value;
    if (!('N' in existing))
      throw validation('An operand in the update expression has an incorrect data type');
    return { N: formatDecimal(addDecimals(parseDecimal(existing.N), parseDecimal(value.N))) };
  }
  if ('SS' in value || 'NS' in value || 'BS' in value) {
    if (existing === undefined) return value;
    const type = typeOf(value);
    if (typeOf(existing) !== type)
      throw validation('An operand in the update expression has an incorrect data type');
    const members = [...setMembers(existing)];
    for (const m of setMembers(value))
      if (!members.some((e) => membersEqual(type, e, m))) members.push(m);
    return { [type]: members } as AttributeValue;
  }
  throw validation(
    'Incorrect operand type for operator or function; operator: ADD, operand type: ' +
      typeOf(value),
  );
}

function deleteFrom(
  existing: AttributeValue | undefined,
  value: AttributeValue,
): AttributeValue | undefined {
  const type = typeOf(value);
  if (!['SS', 'NS', 'BS'].includes(type)) {
    throw validation(
      `Incorrect operand type for operator or function; operator: DELETE, operand type: ${type}`,
    );
  }
  if (existing === undefined) return undefined;
  if (typeOf(existing) !== type)
    throw validation('An operand in the update expression has an incorrect data type');
  const remove = setMembers(value);
  const members = setMembers(existing).filter((m) => !remove.some((r) => membersEqual(type, m, r)));
  return members.length === 0 ? undefined : ({ [type]: members } as AttributeValue);
}

function setPath(item: Item, path: Path, value: AttributeValue) {
  const { parent, last } = parentOf(item, path);
  if (typeof last === 'number') {
    if (!('L' in parent)) throw invalidPath();
    if (last >= parent.L.length) parent.L.push(value);
    else parent.L[last] = value;
  } else {
    if (!('M' in parent)) throw invalidPath();
    parent.M[last] = value;
  }
}

function removePath(item: Item, path: Path) {
  let parent: AttributeValue | undefined = { M: item };
  for (const element of path.elements.slice(0, -1)) {
    if (parent === undefined) return;
    parent = childOf(parent, element);
  }
  const last = path.elements.at(-1)!;
  if (parent === undefined) return;
  if (typeof last === 'number' && 'L' in parent) parent.L.splice(last, 1);
  else if (typeof last === 'string' && 'M' in parent) delete parent.M[last];
}

function parentOf(item: Item, path: Path): { parent: AttributeValue; last: string | number } {
  let parent: AttributeValue = { M: item };
  for (const element of path.elements.slice(0, -1)) {
    const next = childOf(parent, element);
    if (next === undefined) throw invalidPath();
    parent = next;
  }
  return { parent, last: path.elements.at(-1)! };
}

function invalidPath() {
  return validation('The document path provided in the update expression is invalid for update');
}

/** Only the projected paths of an item (list elements keep their relative order, compacted). */
export function project(item: Item, paths: Path[]): Item {
  const out: Item = {};
  for (const path of paths) {
    const value = resolvePath(item, path);
    if (value === undefined) continue;
    let target: AttributeValue = { M: out };
    path.elements.forEach((element, i) => {
      const isLast = i === path.elements.length - 1;
      const nextIsIndex = typeof path.elements[i + 1] === 'number';
      if (typeof element === 'number') {
        const list = (target as { L: AttributeValue[] }).L;
        if (isLast) list.push(value);
        else {
          const child: AttributeValue = nextIsIndex ? { L: [] } : { M: {} };
          list.push(child);
          target = child;
        }
      } else {
        const map = (target as { M: Item }).M;
        if (isLast) map[element] = value;
        else {
          map[element] ??= nextIsIndex ? { L: [] } : { M: {} };
          target = map[element]!;
        }
      }
    });
  }
  return out;
}
