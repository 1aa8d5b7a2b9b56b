import { Module } from '@nestjs/common';
import { DefinitionCatalog } from './definitions/definition-catalog';
import { DefinitionsController } from './definitions/definitions.controller';
import { ParkedMessagesController } from './parked/parked-messages.controller';
import { ResolveParkedMessage } from './parked/resolve-parked-message';
import { SagaQueriesController } from './sagas/saga-queries.controller';

/**
 * The read side of the admin API (search, one saga, definitions, parked messages) and the two
 * actions on parked messages. Uses the core module's DataSource and registry and the audit log.
 */
@Module({
  controllers: [SagaQueriesController, DefinitionsController, ParkedMessagesController],
  providers: [DefinitionCatalog, ResolveParkedMessage],
})
export class QueriesModule {}
