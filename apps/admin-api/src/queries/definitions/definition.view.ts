import { StoredDefinition } from '@sagaflow/persistence';
import { CompiledSaga } from '@sagaflow/saga-dsl';

/** A definition version as the admin API knows it: from this build, the store, or both. */
export interface KnownDefinition {
  readonly compiled: CompiledSaga;
  /** This build can run it (the registry has it). */
  readonly inBuild: boolean;
  /** The newest version of its name in this build (new starts use it). */
  readonly latest: boolean;
  /** Null when no orchestrator has registered it in this store yet. */
  readonly stored: Pick<StoredDefinition, 'hash' | 'registeredAt'> | null;
  readonly liveInstances: number;
}

/** One item of `GET /definitions`. */
export function definitionSummaryView(d: KnownDefinition) {
  const { compiled } = d;
  const pivot = compiled.pivotIndex === null ? null : compiled.steps[compiled.pivotIndex];
  return {
    name: compiled.name,
    version: compiled.version,
    latest: d.latest,
    inBuild: d.inBuild,
    stepCount: compiled.steps.length,
    stageCount: compiled.stages.length,
    pivot: pivot ? { index: pivot.index, name: pivot.name } : null,
    deadlineMs: compiled.deadlineMs,
    startOn: compiled.startOn ?? null,
    sensitive: compiled.sensitive ?? [],
    liveInstances: d.liveInstances,
    registeredAt: d.stored?.registeredAt ?? null,
    hash: d.stored?.hash ?? null,
  };
}

/** `GET /definitions/:name/:version`: the summary plus the compiled step graph. */
export function definitionDetailView(d: KnownDefinition) {
  const { compiled } = d;
  const nameOf = (index: number) => compiled.steps[index]?.name ?? null;
  return {
    ...definitionSummaryView(d),
    stages: compiled.stages.map((stage) => ({
      index: stage.index,
      name: stage.name,
      parallel: stage.parallel,
      steps: stage.steps.map((index) => ({ index, name: nameOf(index) })),
    })),
    steps: compiled.steps.map((s) => ({
      index: s.index,
      name: s.name,
      kind: s.kind,
      stage: s.stage,
      command: s.command,
      timeoutMs: s.timeoutMs,
      onTimeout: s.onTimeout,
      retry: s.retry,
      compensation: s.compensation
        ? {
            command: s.compensation,
            timeoutMs: s.compensationTimeoutMs,
            retry: s.compensationRetry,
          }
        : null,
      conditional: s.conditional,
    })),
  };
}
