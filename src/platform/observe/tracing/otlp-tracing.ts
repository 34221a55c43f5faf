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

export function otlpTracing(opts: {
  endpoint: string;
  nodeName: string;
  version: string;
}): Tracing {
  const url = `${opts.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'nimbus',
      'service.version': opts.version,
      'service.instance.id': opts.nodeName,
    }),
    // Root trace ids X-Ray accepts too: the first 8 hex digits are the epoch seconds.
    idGenerator: {
      generateTraceId: () => newTraceId(Date.now()),
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
      const ctx = parent
        ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.parentId,
            traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          })
        : ROOT_CONTEXT;
      const span = tracer.startSpan(
        name,
        {
          kind: kinds[options.kind ?? 'internal'],
          ...(options.startMs === undefined ? {} : { startTime: options.startMs }),
          ...(options.attributes ? { attributes: options.attributes } : {}),
        },
        ctx,
      );
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
