import { SagaSummaryRecord } from '@sagaflow/persistence';
import { DefinitionRegistry } from '@sagaflow/runtime';

/** One item of `GET /sagas`: what a list of sagas shows (no data, no timeline). */
export function sagaSummaryView(record: SagaSummaryRecord, registry: DefinitionRegistry) {
  const steps = registry.find(record.sagaType, record.sagaVersion)?.compiled.steps;
  return {
    id: record.id,
    sagaType: record.sagaType,
    sagaVersion: record.sagaVersion,
    status: record.status,
    version: record.version,
    businessKey: record.businessKey,
    currentStep:
      record.stepIndex === null
        ? null
        : { index: record.stepIndex, name: steps?.[record.stepIndex]?.name ?? null },
    attempt: record.attempt,
    lastError: record.lastError,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
