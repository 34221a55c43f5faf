/**
 * Tracing exported over OTLP/HTTP (JSON) through the OpenTelemetry SDK: `nimbus server
 * --otlp-endpoint http://collector:4318`. Spans are batched off the request path. Loaded only when
 * an endpoint is given, so a platform without one never imports the SDK.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { newTraceId, spanId } from './trace-context.js';
import type { Tracing } from './tracing.js';

const kinds = {
  server: SpanKind.SERVER,
  internal: SpanKind.INTERNAL,
  consumer: SpanKind.CONSUMER,
} as const;

/**
 * Whether a trace is recorded, from its id alone: its last 8 hex digits (random in every id
 * Nimbus or a W3C tracer makes) read as a fraction below `ratio`. Every hop of a trace, on any
 * node, decides the same way without carrying the decision.
 */
export function sampledTrace(traceId: string, ratio: number): boolean {
  return ratio >= 1 || Number.parseInt(traceId.slice(-8), 16) / 0x1_0000_0000 < ratio;
}

export function otlpTracing(opts: {
  endpoint: string;
  nodeName: string;
  version: string;
  /** Share of traces recorded and exported, (0, 1]; 1 (all) by default (docs/tracing.md). */
  sampleRatio?: number;
}): Tracing {
  const ratio = opts.sampleRatio ?? 1;
  // A root's id is made before the SDK's span so it can be sampled; the SDK then takes it.
  let nextTraceId: string | undefined;
  const url = `${opts.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'nimbus',
      'service.version': opts.version,
      'service.instance.id': opts.nodeName,
    }),
    // Root trace ids X-Ray accepts too: the first 8 hex digits are the epoch seconds.
    idGenerator: {
      generateTraceId: () => nextTraceId ?? newTraceId(Date.now()),
      generateSpanId: () => spanId(),
    },
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url }),
        scheduledDelayMillis: 500,
      }),
    ],
  });
  const tracer = provider.getTracer('nimbus', opts.version);
  return {
    start(name, parent, options = {}) {
      const traceId = parent?.traceId ?? newTraceId(Date.now());
      if (!sampledTrace(traceId, ratio)) {
        // Not recorded: only the ids functions see, as without an endpoint.
        return { context: { traceId, parentId: spanId(), sampled: false }, end() {} };
      }
      const ctx = parent
        ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.parentId,
            traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          })
        : ROOT_CONTEXT;
      nextTraceId = parent ? undefined : traceId;
      const span = tracer.startSpan(
        name,
        {
          kind: kinds[options.kind ?? 'internal'],
          ...(options.startMs === undefined ? {} : { startTime: options.startMs }),
          ...(options.attributes ? { attributes: options.attributes } : {}),
        },
        ctx,
      );
      nextTraceId = undefined;
      const own = span.spanContext();
      return {
        context: { traceId: own.traceId, parentId: own.spanId, sampled: true },
        end(attributes, error, endMs) {
          if (attributes) span.setAttributes(attributes);
          if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
          span.end(endMs);
        },
      };
    },
    async stop() {
      await provider.shutdown();
    },
  };
}
