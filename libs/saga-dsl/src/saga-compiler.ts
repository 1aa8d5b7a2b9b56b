import { CommandDefinition } from './command';
import {
  CompiledStage,
  CompiledStep,
  RuntimeStartOn,
  RuntimeStep,
  SagaDefinition,
  StepKind,
} from './compiled-saga';
import { Duration, toMs } from './duration';
import { RetryOptions, RetryPolicy } from './retry-options';
import { RawStartOn, SagaDraftOptions, StageDraft, StepDraft } from './saga-draft';

/** Defaults: a couple of quick retries before the pivot, persistence after it. */
const DEFAULT_ATTEMPTS: Record<StepKind, number> = {
  compensatable: 3,
  pivot: 3,
  retriable: 10,
  notification: 1,
  local: 1,
};
const DEFAULT_COMPENSATION_ATTEMPTS = 5;

/** Turns validated drafts into the runtime definition (call findProblems first). */
export function compileSaga(
  options: SagaDraftOptions,
  stages: readonly StageDraft[],
): SagaDefinition {
  const steps: RuntimeStep[] = [];
  const compiledStages: CompiledStage[] = stages.map((stage, stageIndex) => {
    const indexes = stage.steps.map((draft) => {
      steps.push(compileStep(draft, steps.length, stageIndex));
      return steps.length - 1;
    });
    return { index: stageIndex, name: stage.name, parallel: stage.parallel, steps: indexes };
  });
  const pivot = steps.findIndex((s) => s.compiled.kind === 'pivot');
  const startOn = compileStartOn(options.startOn);
  return Object.freeze({
    compiled: {
      name: options.name,
      version: options.version,
      ...(startOn ? { startOn: { topic: startOn.topic } } : {}),
      pivotIndex: pivot === -1 ? null : pivot,
      deadlineMs: options.deadline === undefined ? null : msOf(options.deadline),
      ...(options.sensitive?.length ? { sensitive: [...new Set(options.sensitive)] } : {}),
      steps: steps.map((s) => s.compiled),
      stages: compiledStages,
    },
    input: options.input,
    steps,
    startOn,
  });
}

/** The author's functions are kept as given; the compiled form keeps only the topic. */
function compileStartOn(startOn: RawStartOn | undefined): RuntimeStartOn | null {
  if (!startOn) return null;
  return Object.freeze({
    topic: startOn.topic!,
    event: startOn.event!,
    eventId: startOn.eventId as RuntimeStartOn['eventId'],
    input: startOn.input as RuntimeStartOn['input'],
    businessKey: (startOn.businessKey as RuntimeStartOn['businessKey'] | undefined) ?? null,
  });
}

function compileStep(draft: StepDraft, index: number, stage: number): RuntimeStep {
  const { options, kind, name } = draft;
  const compensate = kind === 'compensatable' ? options.compensate : undefined;
  const command = (options.command as CommandDefinition | undefined) ?? null;
  const compiled: CompiledStep = {
    index,
    name,
    kind,
    stage,
    command: command ? { type: command.type, topic: command.topic } : null,
    compensation: compensate?.command
      ? { type: compensate.command.type, topic: compensate.command.topic }
      : null,
    timeoutMs: options.timeout === undefined ? null : msOf(options.timeout),
    onTimeout: options.onTimeout ?? 'retry',
    retry: compileRetry(options.retry, DEFAULT_ATTEMPTS[kind]),
    compensationTimeoutMs: compensate?.timeout === undefined ? null : msOf(compensate.timeout),
    compensationRetry: compileRetry(compensate?.retry, DEFAULT_COMPENSATION_ATTEMPTS),
    conditional: typeof options.when === 'function',
  };
  return {
    compiled,
    command,
    payload: (options.payload as RuntimeStep['payload']) ?? (() => undefined),
    onReply:
      (draft.transform as RuntimeStep['onReply']) ??
      (options.onReply as RuntimeStep['onReply']) ??
      ((data) => data),
    compensation: compensate?.command
      ? {
          command: compensate.command as CommandDefinition,
          payload: compensate.payload as (data: unknown, log: unknown) => unknown,
        }
      : null,
    when: (options.when as RuntimeStep['when']) ?? null,
  };
}

export function compileRetry(
  options: RetryOptions | undefined,
  defaultAttempts: number,
): RetryPolicy {
  return {
    maxAttempts: options?.maxAttempts ?? defaultAttempts,
    initialDelayMs: msOf(options?.initialDelay ?? '1s'),
    multiplier: options?.multiplier ?? 2,
    maxDelayMs: msOf(options?.maxDelay ?? '1m'),
    jitter: options?.jitter ?? 0.2,
    retryOn: [...(options?.retryOn ?? [])],
    neverRetryOn: [...(options?.neverRetryOn ?? [])],
  };
}

function msOf(value: Duration): number {
  const parsed = toMs(value, 'duration');
  if (!parsed.ok) throw new TypeError(parsed.problem);
  return parsed.ms;
}
