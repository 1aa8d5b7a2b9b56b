import { Module } from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import { BullmqTimerWakeups, DefinitionRegistry, OperatorActions } from '@sagaflow/runtime';
import { DataSource } from 'typeorm';
import { CONFIG, WAKEUPS } from '../tokens';
import { ActionRunner } from './action-runner';
import { BulkActionsController } from './bulk-actions.controller';
import { IdempotentActions } from './idempotent-action';
import { SagaActionsController } from './saga-actions.controller';

/** Operator actions. Bulk routes come first so `/sagas/bulk/retry` never reads as `/sagas/:id/retry`. */
@Module({
  controllers: [BulkActionsController, SagaActionsController],
  providers: [
    {
      provide: OperatorActions,
      useFactory: (
        ds: DataSource,
        registry: DefinitionRegistry,
        config: SagaflowConfig,
        wakeups: BullmqTimerWakeups,
      ) => new OperatorActions(ds, registry, config, wakeups),
      inject: [DataSource, DefinitionRegistry, CONFIG, WAKEUPS],
    },
    IdempotentActions,
    ActionRunner,
  ],
})
export class ActionsModule {}
