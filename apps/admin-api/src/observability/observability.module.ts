import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SagaflowConfig } from '@sagaflow/config';
import {
  createProcessTelemetry,
  HealthController,
  METRICS_REGISTRY,
  MetricsController,
  ProcessTelemetry,
  READINESS_PROBES,
} from '@sagaflow/observability';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { DataSource } from 'typeorm';
import { CONFIG } from '../tokens';
import { ObservabilitySetup } from './observability-setup';
import { AdminReadinessProbes } from './readiness-probes';

/** The process's telemetry (JSON logs, metrics registry, tracer). */
export const PROCESS_TELEMETRY = 'SAGAFLOW_PROCESS_TELEMETRY';

/**
 * Observability of the admin API: `GET /metrics` (one registry per process, default process
 * metrics, saga counters, pool gauge), `GET /health`, `/health/live` and `/health/ready`
 * (terminus, PostgreSQL and Redis probes), JSON logs for Nest and the runtime, and tracing when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Needs the core module's DataSource, registry and config.
 * Import it into AdminApiModule in place of the old `HealthController` there.
 */
@Module({
  // A probe fails while its dependency is away; readiness says so, terminus need not log it.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [
    {
      provide: PROCESS_TELEMETRY,
      useFactory: () => createProcessTelemetry({ serviceName: 'sagaflow-admin-api' }),
    },
    {
      provide: METRICS_REGISTRY,
      useFactory: (t: ProcessTelemetry) => t.registry,
      inject: [PROCESS_TELEMETRY],
    },
    {
      provide: ObservabilitySetup,
      useFactory: (t: ProcessTelemetry, r: DefinitionRegistry, d: DataSource) =>
        new ObservabilitySetup(t, r, d),
      inject: [PROCESS_TELEMETRY, DefinitionRegistry, DataSource],
    },
    {
      provide: AdminReadinessProbes,
      useFactory: (d: DataSource, c: SagaflowConfig) => new AdminReadinessProbes(d, c),
      inject: [DataSource, CONFIG],
    },
    { provide: READINESS_PROBES, useExisting: AdminReadinessProbes },
  ],
  exports: [PROCESS_TELEMETRY],
})
export class ObservabilityModule {}
