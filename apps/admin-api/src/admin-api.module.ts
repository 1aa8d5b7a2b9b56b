import { Module } from '@nestjs/common';
import { ActionsModule } from './actions/actions.module';
import { AuthModule } from './auth/auth.module';
import { CoreModule } from './core.module';
import { ObservabilityModule } from './observability/observability.module';
import { QueriesModule } from './queries/queries.module';
import { SagasController } from './sagas/sagas.controller';

@Module({
  imports: [CoreModule, ObservabilityModule, AuthModule, QueriesModule, ActionsModule],
  controllers: [SagasController],
})
export class AdminApiModule {}
