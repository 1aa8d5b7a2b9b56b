import { Module } from '@nestjs/common';
import { ActionsModule } from './actions/actions.module';
import { AuthModule } from './auth/auth.module';
import { CoreModule } from './core.module';
import { HealthController } from './health.controller';
import { QueriesModule } from './queries/queries.module';
import { SagasController } from './sagas/sagas.controller';

@Module({
  imports: [CoreModule, AuthModule, QueriesModule, ActionsModule],
  controllers: [HealthController, SagasController],
})
export class AdminApiModule {}
