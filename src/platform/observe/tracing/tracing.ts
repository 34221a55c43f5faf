/**
 * Spans of the platform's own work (gateway request, queue wait, function run), each a child of
 * the trace the request came with. Without an OTLP endpoint nothing is recorded: only the ids
 * that functions see (`_X_AMZN_TRACE_ID`) are made, which costs a few random bytes.
 */
import { newTraceId, spanId, type TraceContext } from './trace-context.js';

export type SpanAttributes = Record<string, string | number | boolean>;

export interface ActiveSpan {
  /** The context children of this span carry (its own span id as their parent). */
  readonly context: TraceContext;
  /** `endMs` backdates the end (a span measured after the fact). */
  end(attributes?: SpanAttributes, error?: string, endMs?: number): void;
}

export interface Tracing {
  /**
   * Starts a span, child of `parent` (a new trace when none). `startMs` backdates it (a queue
   * wait starts when the event was accepted).
   */
  start(
    name: string,
    parent: TraceContext | undefined,
    opts?: {
      kind?: 'server' | 'internal' | 'consumer';
      startMs?: number;
      attributes?: SpanAttributes;
    },
  ): ActiveSpan;
  stop(): Promise<void>;
}

/** Ids only: what functions see, with nothing recorded or exported. */
export function idOnlyTracing(now: () => number = Date.now): Tracing {
  return {
    start: (_name, parent) => {
      const context: TraceContext = {
        traceId: parent?.traceId ?? newTraceId(now()),
        parentId: spanId(),
        sampled: parent?.sampled ?? false,
      };
      return { context, end() {} };
    },
    stop: async () => {},
  };
}
