import { crashPoint } from '@sagaflow/config';
import { decide, SagaInstance, TimerEvent } from '@sagaflow/engine';
import {
  OptimisticLockError,
  SagaInstanceRepository,
  Sql,
  TimerRepository,
  withTransaction,
} from '@sagaflow/persistence';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { DataSource } from 'typeorm';
import { DefinitionRegistry } from './definition-registry';
import { addTransition, emptyWrites, flushWrites, TopicSettings } from './effect-writes';
import { PollingLoop } from './polling-loop';
import { changedInstances } from './reply-batch-processor';

export interface TimerTotals {
  fired: number;
  applied: number;
  /** Stale timers: the attempt they were armed for is over. A no-op, counted. */
  ignored: number;
}

const MAX_CONFLICT_RETRIES = 5;

/**
 * Fires due timers from PostgreSQL: claims them (SKIP LOCKED), feeds each event to `decide`
 * and writes the outcome and the removal of the timer in one transaction. PostgreSQL holds
 * every deadline, so this alone never loses a timer; a Redis wake-up only makes it prompter.
 */
export class TimerProcessor {
  private readonly instances = new SagaInstanceRepository();
  private readonly timers = new TimerRepository();
  private readonly loop: PollingLoop;
  readonly totals: TimerTotals = { fired: 0, applied: 0, ignored: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly topics: TopicSettings,
    private readonly options: {
      readonly batchSize?: number;
      readonly pollMs?: number;
      readonly onError?: (error: unknown) => void;
    } = {},
  ) {
    this.loop = new PollingLoop(() => this.fireDue(), {
      batchSize: options.batchSize ?? 200,
      idleMs: options.pollMs ?? 100,
      onError: options.onError,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Fires one batch of due timers; returns how many it claimed. */
  async fireDue(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTransaction(this.dataSource, (sql) => this.fireInTransaction(sql));
      } catch (error) {
        if (!(error instanceof OptimisticLockError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  private async fireInTransaction(sql: Sql): Promise<number> {
    const due = await this.timers.claimDue(sql, this.options.batchSize ?? 200);
    if (due.length === 0) return 0;
    const loaded = await this.instances.findMany(sql, [...new Set(due.map((t) => t.sagaId))]);
    const current = new Map(loaded);
    const writes = emptyWrites();
    let applied = 0;
    const unrunnable: string[] = [];
    for (const timer of due) {
      const instance = current.get(timer.sagaId);
      const definition = instance && this.registry.find(instance.sagaType, instance.sagaVersion);
      if (!instance || !definition) {
        unrunnable.push(timer.key);
        continue;
      }
      const next = this.fire(definition, instance, timer.event as unknown as TimerEvent, writes);
      if (next) {
        applied++;
        current.set(next.id, next);
      }
    }
    // A timer this process cannot run (its definition version is not deployed here) is kept
    // for a process that can, and put back a minute so it does not spin.
    await this.timers.postpone(sql, unrunnable, 60_000);
    await this.timers.cancel(
      sql,
      due.map((t) => t.key).filter((k) => !unrunnable.includes(k)),
    );
    await flushWrites(sql, changedInstances(loaded, current), writes);
    crashPoint('timer.beforeCommit');
    const fired = due.length - unrunnable.length;
    this.totals.fired += fired;
    this.totals.applied += applied;
    this.totals.ignored += fired - applied;
    return due.length;
  }

  private fire(
    definition: SagaDefinition,
    instance: SagaInstance,
    event: TimerEvent,
    writes: ReturnType<typeof emptyWrites>,
  ): SagaInstance | null {
    const decision = decide(definition, instance, event);
    if (decision.kind !== 'applied') return null;
    addTransition(writes, decision.next, decision.effects, decision.journal, 'timer', this.topics);
    return decision.next;
  }
}
