/**
 * One trace context, written the two ways functions and clients meet it: W3C `traceparent`
 * (`00-<trace id>-<parent span id>-<flags>`) and AWS's `X-Amzn-Trace-Id` / `_X_AMZN_TRACE_ID`
 * (`Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`). The 32 hex digits of a trace
 * id are the same in both (X-Ray's root is the W3C id split after its first 8 digits), so a trace
 * that enters through either header keeps its id through every hop (docs/tracing.md).
 */
import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** The span the next hop is a child of: 16 hex digits, not all zero. */
  parentId: string;
  sampled: boolean;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const xrayRoot = /(?:^|;)\s*Root=1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})\s*(?:;|$)/;
const xrayParent = /(?:^|;)\s*Parent=([0-9a-fA-F]{16})\s*(?:;|$)/;
const xraySampled = /(?:^|;)\s*Sampled=([01])\s*(?:;|$)/;

export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const match = value === undefined ? null : traceparentPattern.exec(value.trim());
  if (!match || match[1] === 'ff') return undefined;
  const [, , traceId, parentId, flags] = match;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return undefined;
  return {
    traceId: traceId!,
    parentId: parentId!,
    sampled: (Number.parseInt(flags!, 16) & 1) === 1,
  };
}

export function parseXRay(value: string | undefined): TraceContext | undefined {
  if (value === undefined) return undefined;
  const root = xrayRoot.exec(value);
  if (!root) return undefined;
  const traceId = `${root[1]}${root[2]}`.toLowerCase();
  if (/^0+$/.test(traceId)) return undefined;
  const parent = xrayParent.exec(value)?.[1]?.toLowerCase();
  return {
    traceId,
    parentId: parent && !/^0+$/.test(parent) ? parent : spanId(),
    sampled: xraySampled.exec(value)?.[1] === '1',
  };
}

/** The incoming context: `traceparent` first (the standard), then `X-Amzn-Trace-Id`. */
export function incomingTrace(
  traceparent: string | undefined,
  xAmznTraceId: string | undefined,
): TraceContext | undefined {
  return parseTraceparent(traceparent) ?? parseXRay(xAmznTraceId);
}

export function toTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.parentId}-${ctx.sampled ? '01' : '00'}`;
}

export function toXRay(ctx: TraceContext): string {
  return `Root=1-${ctx.traceId.slice(0, 8)}-${ctx.traceId.slice(8)};Parent=${ctx.parentId};Sampled=${ctx.sampled ? 1 : 0}`;
}

/** A new trace id whose first 8 digits are the epoch seconds, as X-Ray requires of a root. */
export function newTraceId(nowMs: number): string {
  const epoch = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  return `${epoch}${randomHex(12)}`;
}

export function spanId(): string {
  return randomHex(8);
}

// Ids are made on every request: one crypto call per 4 KiB of randomness, not per id.
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}
