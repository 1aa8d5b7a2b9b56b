import { randomUUID } from 'node:crypto';
import { decide, SagaInstance } from '@sagaflow/engine';
import { DataSource } from 'typeorm';
import {
  JournalRepository,
  OutboxRepository,
  SagaInstanceRepository,
  withTransaction,
} from '@sagaflow/persistence';
import { TopicSettings, toJournal, toOutbox } from './command-outbox';
import { DefinitionRegistry } from './definition-registry';
import { InvalidSagaInputError } from './runtime-errors';

export interface StartSagaCommand {
  readonly sagaType: string;
  readonly input: unknown;
  /** Repeating a start with the same key (per saga type) returns the first instance. */
  readonly idempotencyKey: string;
  readonly businessKey?: string | null;
  /** Journal actor, e.g. `api:<key id>` or `event:<topic>`. */
  readonly actor: string;
  readonly traceparent?: string;
}

export interface StartSagaResult {
  readonly instance: SagaInstance;
  /** False when the idempotency key had already started an instance. */
  readonly created: boolean;
}

/**
 * Starts a saga: instance, journal and first command in one transaction. A repeated
 * idempotency key is a no-op that returns the existing instance.
 */
export class StartSaga {
  private readonly instances = new SagaInstanceRepository();
  private readonly journal = new JournalRepository();
  private readonly outbox = new OutboxRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly topics: TopicSettings,
  ) {}

  async execute(command: StartSagaCommand): Promise<StartSagaResult> {
    const definition = this.registry.latest(command.sagaType);
    const decision = decide(definition, null, {
      type: 'started',
      sagaId: randomUUID(),
      input: command.input,
      businessKey: command.businessKey ?? null,
    });
    if (decision.kind !== 'applied')
      throw new InvalidSagaInputError(
        command.sagaType,
        decision.kind === 'rejected' ? decision.errors : [],
      );
    return withTransaction(this.dataSource, async (sql) => {
      const created = await this.instances.insert(sql, decision.next, command.idempotencyKey);
      if (!created) {
        const existing = await this.instances.findByIdempotencyKey(
          sql,
          command.sagaType,
          command.idempotencyKey,
        );
        return { instance: existing!, created: false };
      }
      await this.journal.append(sql, toJournal(decision.next, decision.journal, command.actor));
      await this.outbox.enqueue(sql, toOutbox(decision.effects, this.topics, command.traceparent));
      return { instance: decision.next, created: true };
    });
  }
}
