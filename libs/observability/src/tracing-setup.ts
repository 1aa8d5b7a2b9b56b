import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  SpanExporter,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { SpanTracer } from './tracer';

export interface TracingOptions {
  /** `service.name` of every span, e.g. `sagaflow-orchestrator`. */
  readonly serviceName: string;
  /** Read for `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_SDK_DISABLED`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Export here instead (tests: an InMemorySpanExporter), synchronously; turns tracing on. */
  readonly exporter?: SpanExporter;
}

export interface Tracing {
  readonly tracer: SpanTracer;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Tracing is off unless an OTLP endpoint is configured (or an exporter passed): then spans go
 * over OTLP/HTTP (JSON) in batches, and the provider is also registered as the global one, so
 * code using `@opentelemetry/api` in this process (the participant kit) records into it. Off,
 * nothing is started: the `traceparent` header is only passed on.
 *
 * @example
 * const tracing = setupTracing({ serviceName: 'sagaflow-orchestrator' }); // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318
 */
export function setupTracing(options: TracingOptions): Tracing {
  const env = options.env ?? process.env;
  const url = tracesEndpoint(env);
  if (env.OTEL_SDK_DISABLED === 'true' || (!url && !options.exporter))
    return { tracer: SpanTracer.PROPAGATE_ONLY, shutdown: async () => undefined };
  const processor = options.exporter
    ? new SimpleSpanProcessor({ exporter: options.exporter })
    : new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: url! }),
        // OTEL_BSP_SCHEDULE_DELAY, the standard variable: how often a batch is exported (5 s).
        scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY) || 5000,
      });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [processor],
  });
  const registered = trace.setGlobalTracerProvider(provider);
  return {
    tracer: new SpanTracer(provider.getTracer('@sagaflow/runtime')),
    shutdown: async () => {
      await provider.shutdown();
      if (registered) trace.disable();
    },
  };
}

/** The OTLP/HTTP traces URL from the standard variables, or undefined (tracing off). */
export function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}
