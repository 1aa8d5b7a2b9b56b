import { SpanExporter } from '@opentelemetry/sdk-trace';
import { DestinationStream } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createLogger, Logger } from './logger';
import { SagaMetrics } from './saga-metrics';
import { installTelemetry, SagaTelemetry, uninstallTelemetry } from './saga-telemetry';
import { setupTracing } from './tracing-setup';

export interface ProcessTelemetryOptions {
  /** `service` on log lines and `service.name` on spans, e.g. `sagaflow-orchestrator`. */
  readonly serviceName: string;
  /** Read for LOG_LEVEL and the OTEL_* variables (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Tests: where log lines go instead of stdout. */
  readonly logDestination?: DestinationStream;
  /** Tests: export spans here (turns tracing on). */
  readonly spanExporter?: SpanExporter;
}

/** Everything one process reports through: its logger, its one registry, its tracer. */
export interface ProcessTelemetry {
  readonly telemetry: SagaTelemetry;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Flushes the spans, stops exporting and uninstalls the telemetry. */
  shutdown(): Promise<void>;
}

/**
 * Builds the process's telemetry — pino logger, one prom-client registry with the default
 * process metrics and the saga metrics, tracing if configured — and installs it as the
 * process default, so runtime objects built without one (e.g. by code that predates it) report
 * to it too.
 *
 * @example
 * const { telemetry, registry, shutdown } = createProcessTelemetry({ serviceName: 'sagaflow-orchestrator' });
 */
export function createProcessTelemetry(options: ProcessTelemetryOptions): ProcessTelemetry {
  const env = options.env ?? process.env;
  const logger = createLogger({
    service: options.serviceName,
    level: env.LOG_LEVEL || 'info',
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const tracing = setupTracing({
    serviceName: options.serviceName,
    env,
    ...(options.spanExporter ? { exporter: options.spanExporter } : {}),
  });
  const telemetry = new SagaTelemetry({
    logger,
    metrics: new SagaMetrics(registry),
    tracer: tracing.tracer,
  });
  installTelemetry(telemetry);
  return {
    telemetry,
    logger,
    registry,
    shutdown: async () => {
      uninstallTelemetry(telemetry);
      await tracing.shutdown();
      logger.flush();
    },
  };
}
