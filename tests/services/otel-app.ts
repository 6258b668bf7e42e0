// The applications' own tracing, as a Node service instrumented with the OpenTelemetry JS SDK
// would have it: spans exported over OTLP/gRPC to the same collector as the proxies, and W3C
// trace context carried in the RPC's key/value headers (Dubbo attachments, THeader headers)
// by the SDK's propagator.
import { ROOT_CONTEXT, SpanKind, trace, defaultTextMapGetter, defaultTextMapSetter, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";

export interface AppTracing {
  /** Starts a span (a child of `parent` when given). */
  start(name: string, kind: SpanKind, parent?: Context): Span;
  /** The span's context as headers (traceparent, tracestate). */
  inject(span: Span): Record<string, string>;
  /** The caller's context from received headers. */
  extract(headers: Record<string, unknown>): Context;
  close(): Promise<void>;
}

export { SpanKind };

export function appTracing(serviceName: string, collectorGrpcPort: number): AppTracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${collectorGrpcPort}` }))],
  });
  const tracer = provider.getTracer("metaprotocol-wasm-tests");
  const propagator = new W3CTraceContextPropagator();
  return {
    start: (name, kind, parent) => tracer.startSpan(name, { kind }, parent ?? ROOT_CONTEXT),
    inject(span) {
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
      return carrier;
    },
    extract(headers) {
      const carrier = Object.fromEntries(Object.entries(headers).filter(([, v]) => typeof v === "string")) as Record<string, string>;
      return propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    },
    close: () => provider.shutdown(),
  };
}
