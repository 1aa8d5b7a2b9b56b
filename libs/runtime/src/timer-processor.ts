import { crashPoint } from '@sagaflow/config';
import { decide, SagaInstance, TimerEvent } from '@sagaflow/engine';
import {
  processTelemetry,
  SagaTelemetry,
  stampTimers,
  timerTraceparent,
  TracedTransition,
} from '@sagaflow/observability';
import {
  DueTimer,
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
import { ArmedTimer, NO_WAKEUPS, TimerWakeupSink } from './timer-wakeups';
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
      /** The sweep period: how often PostgreSQL is searched for due timers. */
      readonly pollMs?: number;
      readonly onError?: (error: unknown) => void;
      /** Told about every timer armed here (retries, next timeouts) once it is committed. */
      readonly wakeups?: TimerWakeupSink;
      /** Where spans, metrics and logs go; default: the process's (see installTelemetry). */
      readonly telemetry?: SagaTelemetry;
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

  /** The sweep: fires one batch of due timers, whatever woke them; returns how many it claimed. */
  fireDue(): Promise<number> {
    return this.fire((sql) => this.timers.claimDue(sql, this.options.batchSize ?? 200));
  }

  /** Fires the given timers if they are due and still armed (a wake-up from Redis). */
  fireKeys(keys: readonly string[]): Promise<number> {
    return this.fire((sql) => this.timers.claimDueKeys(sql, keys));
  }

  private get telemetry(): SagaTelemetry {
    return this.options.telemetry ?? processTelemetry();
  }

  private async fire(claim: (sql: Sql) => Promise<DueTimer[]>): Promise<number> {
    const telemetry = this.telemetry;
    for (let attempt = 1; ; attempt++) {
      const traced: TracedTransition[] = [];
      try {
        const { claimed, armed, cancelled, ages } = await withTransaction(
          this.dataSource,
          async (sql) => {
            const fired = await this.fireInTransaction(sql, claim, traced);
            return { ...fired, ages: await telemetry.sagaAges(sql, traced) };
          },
        );
        const wakeups = this.options.wakeups ?? NO_WAKEUPS;
        wakeups.wake(armed);
        wakeups.forget?.(cancelled);
        telemetry.committed(traced, ages);
        return claimed;
      } catch (error) {
        telemetry.abandoned(traced, error);
        if (!(error instanceof OptimisticLockError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  private async fireInTransaction(
    sql: Sql,
    claim: (sql: Sql) => Promise<DueTimer[]>,
    traced: TracedTransition[],
  ): Promise<{ claimed: number; armed: ArmedTimer[]; cancelled: string[] }> {
    const due = await claim(sql);
    if (due.length === 0) return { claimed: 0, armed: [], cancelled: [] };
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
      const next = this.fireOne(definition, instance, timer, writes, traced);
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
    return { claimed: due.length, armed: writes.schedule, cancelled: writes.cancel };
  }

  private fireOne(
    definition: SagaDefinition,
    instance: SagaInstance,
    timer: DueTimer,
    writes: ReturnType<typeof emptyWrites>,
    traced: TracedTransition[],
  ): SagaInstance | null {
    // The timer carries the trace of the transition that armed it: this one joins that trace.
    const { event, traceparent } = timerTraceparent<TimerEvent>(timer.event);
    const decision = decide(definition, instance, event);
    if (decision.kind !== 'applied') return null;
    const cause =
      event.type === 'deadlineReached'
        ? { event: event.type }
        : { event: event.type, step: event.step, kind: event.kind, attempt: event.attempt };
    const t = this.telemetry.begin(definition, decision, cause, traceparent);
    traced.push(t);
    const firstTimer = writes.schedule.length;
    const { next, effects, journal } = decision;
    addTransition(writes, next, effects, journal, 'timer', this.topics, t.traceparent);
    stampTimers(writes.schedule, firstTimer, t.traceparent);
    return next;
  }
}
