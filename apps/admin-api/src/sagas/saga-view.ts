import { SagaDefinition } from '@sagaflow/saga-dsl';
import { StoredInstance, TimelineEntry } from '@sagaflow/persistence';

/** What `GET /sagas/:id` returns: the state an operator needs, then the full timeline. */
export function sagaView(
  stored: StoredInstance,
  definition: SagaDefinition | undefined,
  timeline: readonly TimelineEntry[],
) {
  const { instance } = stored;
  const active = instance.status === 'running' || instance.status === 'compensating';
  const step = active ? definition?.compiled.steps[instance.currentStep] : undefined;
  return {
    id: instance.id,
    sagaType: instance.sagaType,
    sagaVersion: instance.sagaVersion,
    status: instance.status,
    version: instance.version,
    businessKey: instance.businessKey,
    idempotencyKey: stored.idempotencyKey,
    currentStep: active
      ? {
          index: instance.currentStep,
          name: step?.name ?? null,
          kind: step?.kind ?? null,
          attempt: instance.attempt,
        }
      : null,
    data: instance.data,
    completedSteps: instance.completed.map((c) => ({
      index: c.index,
      name: definition?.compiled.steps[c.index]?.name ?? null,
      log: c.log,
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
