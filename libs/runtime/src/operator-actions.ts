import { crashPoint } from '@sagaflow/config';
import {
  compensationPlan,
  decide,
  JournalEntry,
  OperatorAction,
  PlannedCommand,
  SagaInstance,
} from '@sagaflow/engine';
import {
  OptimisticLockError,
  SagaInstanceRepository,
  Sql,
  withConnection,
  withTransaction,
} from '@sagaflow/persistence';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import {
  processTelemetry,
  SagaTelemetry,
  stampTimers,
  TracedTransition,
} from '@sagaflow/observability';
import { DataSource } from 'typeorm';
import { DefinitionRegistry } from './definition-registry';
import { addTransition, emptyWrites, flushWrites, TopicSettings } from './effect-writes';
import {
  ActionForbiddenError,
  IllegalActionError,
  InvalidOperatorReplyError,
  MissingDefinitionVersionError,
  SagaNotFoundError,
  VersionMismatchError,
} from './runtime-errors';
import { ArmedTimer, NO_WAKEUPS, TimerWakeupSink } from './timer-wakeups';

export interface OperatorRequest {
  readonly sagaId: string;
  readonly action: OperatorAction;
  /** Who asks (journal actor), e.g. `operator:alice`. */
  readonly actor: string;
  readonly reason: string;
  /** `If-Match`: act only if the saga is still at this version, else VersionMismatchError. */
  readonly expectedVersion?: number;
  readonly traceparent?: string;
  /** Whether the caller may act on sagas of this type (scoped credentials); absent: any. */
  readonly mayActOn?: (sagaType: string) => boolean;
}

export interface OperatorResult {
  /** The saga after the action (or as it would be, for a preview). */
  readonly instance: SagaInstance;
  /** The compensations the action starts, in order, with their payloads; empty if none. */
  readonly plan: readonly PlannedCommand[];
  readonly journal: readonly JournalEntry[];
}

/** Runs in the action's transaction after its writes: the audit record goes here. */
export type WithinTransaction = (sql: Sql, result: OperatorResult) => Promise<void>;

/** Without If-Match, an action that loses a race with the orchestrator is decided again. */
const ATTEMPTS = 5;

/**
 * Operator actions in the shell: load the saga, let the core decide, write the transition with
 * its outbox rows and timers in one transaction — optimistic-locked like every other write.
 */
export class OperatorActions {
  private readonly instances = new SagaInstanceRepository();

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly topics: TopicSettings,
    private readonly wakeups: TimerWakeupSink = NO_WAKEUPS,
    /** Where spans, metrics and logs go; default: the process's (see installTelemetry). */
    private readonly telemetry?: SagaTelemetry,
  ) {}

  /** What the action would do (`dryRun`): the same decision, nothing written. */
  async preview(request: OperatorRequest): Promise<OperatorResult> {
    return withConnection(this.dataSource, async (sql) => {
      const { result } = await this.decide(sql, request);
      return result;
    });
  }

  async apply(request: OperatorRequest, within?: WithinTransaction): Promise<OperatorResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyOnce(request, within);
      } catch (error) {
        const retry =
          error instanceof OptimisticLockError &&
          request.expectedVersion === undefined &&
          attempt < ATTEMPTS;
        if (!retry) throw this.translate(error, request);
      }
    }
  }

  private async applyOnce(
    request: OperatorRequest,
    within?: WithinTransaction,
  ): Promise<OperatorResult> {
    const armed: ArmedTimer[] = [];
    const cancelled: string[] = [];
    const telemetry = this.telemetry ?? processTelemetry();
    const traced: TracedTransition[] = [];
    let ages: ReadonlyMap<string, number> = new Map();
    const result = await withTransaction(this.dataSource, async (sql) => {
      const { result, before, effects, definition, decision } = await this.decide(sql, request);
      const writes = emptyWrites();
      const t = telemetry.begin(
        definition,
        decision,
        { event: 'operatorAction' },
        request.traceparent,
      );
      traced.push(t);
      addTransition(
        writes,
        result.instance,
        effects,
        result.journal,
        request.actor,
        this.topics,
        t.traceparent,
      );
      stampTimers(writes.schedule, 0, t.traceparent);
      await flushWrites(sql, [{ next: result.instance, expectedVersion: before.version }], writes);
      if (within) await within(sql, result);
      ages = await telemetry.sagaAges(sql, traced);
      crashPoint('operator.beforeCommit');
      armed.push(...writes.schedule);
      cancelled.push(...writes.cancel);
      return result;
    }).catch((error: unknown) => {
      telemetry.abandoned(traced, error);
      throw error;
    });
    telemetry.committed(traced, ages);
    // Committed, but the caller has no answer yet: a retry with the same Idempotency-Key
    // must get the stored response, not a second action.
    crashPoint('operator.afterCommit');
    this.wakeups.wake(armed);
    this.wakeups.forget?.(cancelled);
    return result;
  }

  private async decide(sql: Sql, request: OperatorRequest) {
    const stored = await this.instances.findById(sql, request.sagaId);
    if (!stored) throw new SagaNotFoundError(request.sagaId);
    const before = stored.instance;
    if (request.mayActOn && !request.mayActOn(before.sagaType))
      throw new ActionForbiddenError(before.id, before.sagaType);
    if (request.expectedVersion !== undefined && request.expectedVersion !== before.version)
      throw new VersionMismatchError(before.id, request.expectedVersion, before.version);
    const definition = this.definitionOf(before);
    const decision = decide(definition, before, {
      type: 'operatorAction',
      action: request.action,
      actor: request.actor,
      reason: request.reason,
    });
    if (decision.kind === 'ignored') throw new IllegalActionError(decision.message);
    if (decision.kind === 'rejected') {
      if (decision.reason === 'invalid-reply')
        throw new InvalidOperatorReplyError(decision.message, decision.errors);
      throw new IllegalActionError(decision.message);
    }
    const result: OperatorResult = {
      instance: decision.next,
      plan: compensationPlan(definition, decision.next),
      journal: decision.journal,
    };
    return { result, before, effects: decision.effects, definition, decision };
  }

  private definitionOf(instance: SagaInstance): SagaDefinition {
    const definition = this.registry.find(instance.sagaType, instance.sagaVersion);
    if (!definition)
      throw new MissingDefinitionVersionError(
        `saga ${instance.id} runs ${instance.sagaType} v${instance.sagaVersion}, which this process does not have: deploy it with that definition registered`,
      );
    return definition;
  }

  /** A lost race under If-Match is the operator's stale read: say so as a version mismatch. */
  private translate(error: unknown, request: OperatorRequest): unknown {
    if (error instanceof OptimisticLockError && request.expectedVersion !== undefined)
      return new VersionMismatchError(request.sagaId, request.expectedVersion, null);
    return error;
  }
}
