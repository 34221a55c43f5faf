/**
 * DynamoDB attribute values in their wire shape (`{"S": "x"}`, `{"N": "1"}`, `{"M": {...}}`):
 * checked on the way in (types, empty sets, duplicate set members, 38-digit numbers, numbers
 * made canonical), compared as DynamoDB compares them, and sized as DynamoDB bills them.
 */
import { canonicalNumber, compareDecimals, parseDecimal } from './decimal.js';
import { invalidParameter, validation } from './dynamodb-errors.js';

export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Item }
  | { L: AttributeValue[] }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] };

export type Item = Record<string, AttributeValue>;

export type TypeName = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';
const typeNames = new Set<string>(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

export function typeOf(value: AttributeValue): TypeName {
  return Object.keys(value)[0] as TypeName;
}

/** 400 KB, as DynamoDB counts it. */
export const maxItemBytes = 400 * 1024;

const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A checked copy of a value from the wire: numbers canonical, sets de-duplicated or refused. */
export function checkValue(raw: unknown): AttributeValue {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw validation(
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    );
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1 || !typeNames.has(keys[0]!)) {
    throw validation(
      keys.length === 0
        ? 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'
        : 'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    );
  }
  const type = keys[0] as TypeName;
  const v = (raw as Record<string, unknown>)[type];
  switch (type) {
    case 'S':
      if (typeof v !== 'string') throw serialization();
      return { S: v };
    case 'N':
      if (typeof v !== 'string') throw serialization();
      return { N: canonicalNumber(v) };
    case 'B':
      if (typeof v !== 'string' || !base64.test(v)) throw serialization();
      return { B: v };
    case 'BOOL':
      if (typeof v !== 'boolean') throw serialization();
      return { BOOL: v };
    case 'NULL':
      if (v !== true)
        throw invalidParameter('Null attribute value types must have the value of true');
      return { NULL: true };
    case 'M':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw serialization();
      return { M: checkItem(v) };
    case 'L':
      if (!Array.isArray(v)) throw serialization();
      return { L: v.map(checkValue) };
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(v) || v.some((m) => typeof m !== 'string')) throw serialization();
      const word = type === 'SS' ? 'string' : type === 'NS' ? 'number' : 'binary';
      if (v.length === 0) throw invalidParameter(`An ${word} set  may not be empty`);
      const members = type === 'NS' ? (v as string[]).map(canonicalNumber) : (v as string[]);
      if (new Set(members).size !== members.length) {
        throw invalidParameter(`Input collection ${JSON.stringify(v)} contains duplicates.`);
      }
      return { [type]: members } as AttributeValue;
    }
  }
}

export function checkItem(raw: unknown): Item {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw serialization();
  const out: Item = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.length === 0) throw invalidParameter('An attribute name may not be empty');
    out[name] = checkValue(value);
  }
  return out;
}

function serialization() {
  return validation('Supplied AttributeValue has a value of the wrong type for its datatype');
}

export function itemSize(item: Item): number {
  let total = 0;
  for (const [name, value] of Object.entries(item))
    total += Buffer.byteLength(name) + valueSize(value);
  return total;
}

/**
 * At least itemSize(item) for the item whose JSON text (as JSON.stringify writes it) is `text`:
 * a UTF-16 unit is at most three bytes of UTF-8, and the text's quotes, braces and type tags
 * outweigh the bytes DynamoDB adds for lists and maps and saves on numbers. Free to compute, so
 * an item is walked for its exact size only where the bound reaches a limit.
 */
export function itemSizeBound(text: string): number {
  return text.length * 3;
}

function valueSize(value: AttributeValue): number {
  if ('S' in value) return Buffer.byteLength(value.S);
  if ('N' in value) return numberSize(value.N);
  if ('B' in value) return Buffer.from(value.B, 'base64').length;
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('SS' in value) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if ('NS' in value) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if ('BS' in value) return value.BS.reduce((n, s) => n + Buffer.from(s, 'base64').length, 0);
  if ('L' in value) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  return (
    3 +
    Object.entries(value.M).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueSize(v), 0)
  );
}

function numberSize(text: string): number {
  const digits = text.replace(/[^0-9]/g, '').replace(/^0+/, '');
  return Math.ceil(digits.length / 2) + 1;
}

export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  switch (ta) {
    case 'N':
      return (
        compareDecimals(
          parseDecimal((a as { N: string }).N),
          parseDecimal((b as { N: string }).N),
        ) === 0
      );
    case 'SS':
    case 'NS':
    case 'BS': {
      const sa = setMembers(a);
      const sb = setMembers(b);
      return sa.length === sb.length && sa.every((m) => sb.some((n) => membersEqual(ta, m, n)));
    }
    case 'L': {
      const la = (a as { L: AttributeValue[] }).L;
      const lb = (b as { L: AttributeValue[] }).L;
      return la.length === lb.length && la.every((v, i) => valuesEqual(v, lb[i]!));
    }
    case 'M': {
      const ma = (a as { M: Item }).M;
      const mb = (b as { M: Item }).M;
      const ka = Object.keys(ma);
      return (
        ka.length === Object.keys(mb).length &&
        ka.every((k) => k in mb && valuesEqual(ma[k]!, mb[k]!))
      );
    }
    default:
      return JSON.stringify(a) === JSON.stringify(b);
  }
}

export function setMembers(v: AttributeValue): string[] {
  if ('SS' in v) return v.SS;
  if ('NS' in v) return v.NS;
  if ('BS' in v) return v.BS;
  return [];
}

export function membersEqual(type: TypeName, a: string, b: string): boolean {
  if (type === 'NS') return compareDecimals(parseDecimal(a), parseDecimal(b)) === 0;
  return a === b;
}

/** <0, 0, >0 for two scalars of the same orderable type (S, N, B); undefined otherwise. */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if ('S' in a && 'S' in b) return Buffer.compare(Buffer.from(a.S), Buffer.from(b.S));
  if ('N' in a && 'N' in b) return compareDecimals(parseDecimal(a.N), parseDecimal(b.N));
  if ('B' in a && 'B' in b)
    return Buffer.compare(Buffer.from(a.B, 'base64'), Buffer.from(b.B, 'base64'));
  return undefined;
}
