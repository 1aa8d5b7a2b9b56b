import { SagaDefinition } from '@sagaflow/saga-dsl';
import { StoredInstance, TimelineEntry } from '@sagaflow/persistence';

/** What `GET /sagas/:id` returns: the state an operator needs, then the full timeline. */
export function sagaView(
  stored: StoredInstance,
  definition: SagaDefinition | undefined,
  timeline: readonly TimelineEntry[],
) {
  const { instance } = stored;
  const steps = definition?.compiled.steps ?? [];
  const nameOf = (index: number) => steps[index]?.name ?? null;
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
    pendingSteps:
      instance.status === 'running'
        ? instance.pending.map((p) => ({
            index: p.step,
            name: nameOf(p.step),
            kind: steps[p.step]?.kind ?? null,
            attempt: p.attempt,
            waiting: p.waiting,
          }))
        : instance.status === 'compensating'
          ? [
              {
                index: instance.currentStep,
                name: nameOf(instance.currentStep),
                kind: 'compensation',
                attempt: instance.attempt,
                waiting: instance.waiting,
              },
            ]
          : [],
    data: instance.data,
    completedSteps: instance.completed.map((c) => ({
      index: c.index,
      name: nameOf(c.index),
      log: c.log,
      ...(c.unknown ? { outcomeUnknown: true } : {}),
    })),
    lastError: 'cause' in instance ? instance.cause : null,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    timeline: timeline.map((t) => ({
      at: t.recordedAt,
      version: t.instanceVersion,
      type: t.type,
      step: t.step ?? null,
      kind: t.kind ?? null,
      attempt: t.attempt ?? null,
      actor: t.actor,
      detail: t.detail ?? {},
    })),
  };
}
