import { SagaInstance } from '@sagaflow/engine';
import { SagaTimerRecord, StoredInstance, TimelineEntry } from '@sagaflow/persistence';
import { CompiledStep, redactSensitive, SagaDefinition } from '@sagaflow/saga-dsl';
import { mergeTimeline, SagaAuditEntry } from './saga-timeline';

/** Everything `GET /sagas/:id` is built from, read in one go. */
export interface SagaDetailSources {
  readonly stored: StoredInstance;
  readonly definition: SagaDefinition | undefined;
  readonly journal: readonly TimelineEntry[];
  readonly audit: readonly SagaAuditEntry[];
  readonly timers: readonly SagaTimerRecord[];
  /** Payload fields to show as "[redacted]" (empty: show everything). */
  readonly redact: readonly string[];
}

/** What `GET /sagas/:id` returns: the state an operator needs, then the full timeline. */
export function sagaDetailView(sources: SagaDetailSources) {
  const { stored, definition, redact } = sources;
  const { instance } = stored;
  const steps = definition?.compiled.steps ?? [];
  const nameOf = (index: number) => steps[index]?.name ?? null;
  const hide = (value: unknown) => redactSensitive(value, redact);
  const deadline = sources.timers.find((t) => t.event.type === 'deadlineReached');
  return {
    id: instance.id,
    sagaType: instance.sagaType,
    sagaVersion: instance.sagaVersion,
    status: instance.status,
    version: instance.version,
    businessKey: instance.businessKey,
    idempotencyKey: stored.idempotencyKey,
    currentStage:
      instance.status === 'running'
        ? { index: instance.stage, name: definition?.compiled.stages[instance.stage]?.name ?? null }
        : null,
    currentStep: currentStep(instance, steps, stored.updatedAt),
    pendingSteps: pendingSteps(instance, steps),
    deadline: deadline?.dueAt ?? null,
    pendingTimers: sources.timers.map((t) => ({
      key: t.key,
      type: t.event.type,
      step: typeof t.event.step === 'string' ? t.event.step : null,
      kind: typeof t.event.kind === 'string' ? t.event.kind : null,
      attempt: typeof t.event.attempt === 'number' ? t.event.attempt : null,
      dueAt: t.dueAt,
      overdue: t.overdue,
    })),
    data: hide(instance.data),
    completedSteps: instance.completed.map((c) => ({
      index: c.index,
      name: nameOf(c.index),
      log: hide(c.log),
      ...(c.unknown ? { outcomeUnknown: true } : {}),
    })),
    lastError: 'cause' in instance ? instance.cause : null,
    ...(redact.length > 0 ? { redacted: redact } : {}),
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    timeline: mergeTimeline(sources.journal, sources.audit).map((line) => ({
      ...line,
      detail: hide(line.detail),
    })),
  };
}

/**
 * The step the saga waits on: the first outstanding step of the stage (running), the step
 * being undone (compensating) or the step it stopped at (failed, waiting for an operator).
 * `since` is the last change of the instance: how long it has been waiting.
 */
function currentStep(instance: SagaInstance, steps: readonly CompiledStep[], since: Date) {
  const describe = (index: number) => ({
    index,
    name: steps[index]?.name ?? null,
    kind: steps[index]?.kind ?? null,
  });
  switch (instance.status) {
    case 'running': {
      const first = instance.pending[0]!;
      const phase = 'forward' as const;
      return {
        ...describe(first.step),
        phase,
        attempt: first.attempt,
        waiting: first.waiting,
        since,
      };
    }
    case 'compensating': {
      const phase = 'compensate' as const;
      return {
        ...describe(instance.currentStep),
        phase,
        attempt: instance.attempt,
        waiting: instance.waiting,
        since,
      };
    }
    case 'failed':
      return {
        ...describe(instance.failedStep),
        phase: instance.cause.kind,
        attempt: null,
        waiting: 'operator' as const,
        since,
      };
    default:
      return null;
  }
}

function pendingSteps(instance: SagaInstance, steps: readonly CompiledStep[]) {
  if (instance.status === 'running') {
    return instance.pending.map((p) => ({
      index: p.step,
      name: steps[p.step]?.name ?? null,
      kind: steps[p.step]?.kind ?? null,
      attempt: p.attempt,
      waiting: p.waiting,
    }));
  }
  if (instance.status === 'compensating') {
    return [
      {
        index: instance.currentStep,
        name: steps[instance.currentStep]?.name ?? null,
        kind: 'compensation',
        attempt: instance.attempt,
        waiting: instance.waiting,
      },
    ];
  }
  return [];
}
