/**
 * DynamoDB numbers: decimal strings of up to 38 significant digits, magnitude 1E-130 to
 * 9.99...E+125. Kept as (sign, digits, exponent) so arithmetic and comparison are exact, never
 * through a JavaScript double.
 */
import { validation } from './dynamodb-errors.js';

export interface Decimal {
  /** -1, 0 or 1. */
  sign: -1 | 0 | 1;
  /** Significant digits, no leading or trailing zeros ('' for zero). */
  digits: string;
  /** value = 0.<digits> x 10^exponent. */
  exponent: number;
}

const numberSyntax = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export function parseDecimal(text: string): Decimal {
  const m = numberSyntax.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw validation(`A value provided cannot be converted into a number`);
  }
  const intPart = m[2]!;
  const fracPart = m[3] ?? '';
  const exp = Number(m[4] ?? '0');
  let all = intPart + fracPart;
  let exponent = intPart.length + exp;
  const lead = all.length - all.replace(/^0+/, '').length;
  all = all.slice(lead);
  exponent -= lead;
  all = all.replace(/0+$/, '');
  if (all === '') return { sign: 0, digits: '', exponent: 0 };
  if (all.length > 38) {
    throw validation('Attempting to store more than 38 significant digits in a Number');
  }
  if (exponent > 126)
    throw validation(
      'Number overflow. Attempting to store a number with magnitude larger than supported range',
    );
  if (exponent < -129)
    throw validation(
      'Number underflow. Attempting to store a number with magnitude smaller than supported range',
    );
  return { sign: m[1] === '-' ? -1 : 1, digits: all, exponent };
}

/** The canonical text DynamoDB answers with: no exponent, no needless zeros. */
export function formatDecimal(d: Decimal): string {
  if (d.sign === 0) return '0';
  const { digits, exponent } = d;
  let text: string;
  if (exponent <= 0) text = `0.${'0'.repeat(-exponent)}${digits}`;
  else if (exponent >= digits.length) text = digits + '0'.repeat(exponent - digits.length);
  else text = `${digits.slice(0, exponent)}.${digits.slice(exponent)}`;
  return d.sign < 0 ? `-${text}` : text;
}

export function canonicalNumber(text: string): string {
  return formatDecimal(parseDecimal(text));
}

export function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  let magnitude: number;
  if (a.exponent !== b.exponent) magnitude = a.exponent < b.exponent ? -1 : 1;
  else magnitude = a.digits < b.digits ? -1 : a.digits > b.digits ? 1 : 0;
  return a.sign * magnitude;
}

/** a + b, exactly, then checked against DynamoDB's precision. */
export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const [ma, ea] = toScaled(a);
  const [mb, eb] = toScaled(b);
  const e = Math.min(ea, eb);
  const sum = ma * 10n ** BigInt(ea - e) + mb * 10n ** BigInt(eb - e);
  const text = sum < 0n ? `-${(-sum).toString()}E${e}` : `${sum.toString()}E${e}`;
  return parseDecimal(text);
}

export function negate(d: Decimal): Decimal {
  return { ...d, sign: (d.sign === 0 ? 0 : -d.sign) as Decimal['sign'] };
}

/** (integer mantissa, power of ten) */
function toScaled(d: Decimal): [bigint, number] {
  if (d.sign === 0) return [0n, 0];
  const m = BigInt(d.digits) * BigInt(d.sign);
  return [m, d.exponent - d.digits.length];
}

/**
 * Bytes that sort (memcmp) exactly as the numbers do: a sign class, then the exponent, then the
 * digits; for negatives, exponent and digits are inverted and a terminator makes a shorter digit
 * string sort after its extensions (-1.2 > -1.25).
 */
export function sortableDecimal(d: Decimal): Buffer {
  if (d.sign === 0) return Buffer.from([0x80]);
  const biased = d.exponent + 1000;
  if (d.sign > 0) {
    const out = Buffer.alloc(3 + d.digits.length);
    out[0] = 0xc0;
    out.writeUInt16BE(biased, 1);
    for (let i = 0; i < d.digits.length; i++) out[3 + i] = 0x30 + d.digits.charCodeAt(i) - 48;
    return out;
  }
  const out = Buffer.alloc(4 + d.digits.length);
  out[0] = 0x40;
  out.writeUInt16BE(0xffff - biased, 1);
  for (let i = 0; i < d.digits.length; i++) out[3 + i] = 0x39 - (d.digits.charCodeAt(i) - 48);
  out[3 + d.digits.length] = 0xff;
  return out;
}
