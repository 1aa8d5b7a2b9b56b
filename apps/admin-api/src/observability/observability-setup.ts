import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { PinoNestLogger, ProcessTelemetry, registerPoolGauge } from '@sagaflow/observability';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { DataSource } from 'typeorm';

/**
 * Puts the admin API's telemetry in place: Nest's lines go through the JSON logger, the pool
 * gauge and the saga counters (0 for every definition) join the registry. The telemetry is the
 * process default, so the StartSaga of the core module reports to it (spans, started counter).
 */
export class ObservabilitySetup implements OnApplicationShutdown {
  constructor(
    private readonly telemetry: ProcessTelemetry,
    registry: DefinitionRegistry,
    dataSource: DataSource,
  ) {
    Logger.overrideLogger(new PinoNestLogger(telemetry.logger));
    registerPoolGauge(telemetry.registry, dataSource);
    telemetry.telemetry.metrics?.registerDefinitions(registry.all().map((d) => d.compiled));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.telemetry.shutdown();
  }
}
