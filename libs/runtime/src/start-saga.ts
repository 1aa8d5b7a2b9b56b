import { randomUUID } from 'node:crypto';
import { decide, SagaInstance } from '@sagaflow/engine';
import { DataSource } from 'typeorm';
import {
  processTelemetry,
  SagaTelemetry,
  stampTimers,
  TracedTransition,
} from '@sagaflow/observability';
import { SagaInstanceRepository, Sql, withTransaction } from '@sagaflow/persistence';
import { addTransition, emptyWrites, flushWrites, TopicSettings } from './effect-writes';
import { DefinitionRegistry } from './definition-registry';
import { InvalidSagaInputError } from './runtime-errors';
import { ArmedTimer, NO_WAKEUPS, TimerWakeupSink } from './timer-wakeups';

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
 * Starts a saga: instance, journal, first command(s) and timers in one transaction. A repeated
 * idempotency key is a no-op that returns the existing instance.
 */
export class StartSaga {
  private readonly instances = new SagaInstanceRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly topics: TopicSettings,
    private readonly wakeups: TimerWakeupSink = NO_WAKEUPS,
    /** Where spans, metrics and logs go; default: the process's (see installTelemetry). */
    private readonly telemetry?: SagaTelemetry,
  ) {}

  /**
   * `within` runs in the start's transaction once the outcome is known (a new instance, or the
   * one the idempotency key already started): the admin API writes its audit record there.
   */
  async execute(
    command: StartSagaCommand,
    within?: (sql: Sql, result: StartSagaResult) => Promise<void>,
  ): Promise<StartSagaResult> {
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
    const armed: ArmedTimer[] = [];
    const telemetry = this.telemetry ?? processTelemetry();
    const traced: TracedTransition[] = [];
    const result = await withTransaction(this.dataSource, async (sql) => {
      const created = await this.instances.insert(sql, decision.next, command.idempotencyKey);
      if (!created) {
        const existing = await this.instances.findByIdempotencyKey(
          sql,
          command.sagaType,
          command.idempotencyKey,
        );
        const repeated = { instance: existing!, created: false };
        if (within) await within(sql, repeated);
        return repeated;
      }
      const writes = emptyWrites();
      const t = telemetry.begin(definition, decision, { event: 'started' }, command.traceparent);
      traced.push(t);
      addTransition(
        writes,
        decision.next,
        decision.effects,
        decision.journal,
        command.actor,
        this.topics,
        t.traceparent,
      );
      stampTimers(writes.schedule, 0, t.traceparent);
      await flushWrites(sql, [], writes);
      armed.push(...writes.schedule);
      const started = { instance: decision.next, created: true };
      if (within) await within(sql, started);
      return started;
    }).catch((error: unknown) => {
      telemetry.abandoned(traced, error);
      throw error;
    });
    this.wakeups.wake(armed);
    // A saga that ends as it starts (only local steps) is 0 s old.
    telemetry.committed(traced, new Map(traced.map((t) => [t.next.id, 0])));
    return result;
  }
}
