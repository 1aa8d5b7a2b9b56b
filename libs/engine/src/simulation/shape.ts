import fc from 'fast-check';

/*
 * The plain-data description of a generated saga definition. The reference model reads this,
 * never the compiled definition, so what the model expects is derived from what the author
 * wrote (and the defaults docs/dsl.md documents), not from the engine's own view of it.
 */

export type ShapeKind = 'compensatable' | 'pivot' | 'retriable' | 'notification' | 'local';
export type TimeoutPolicy = 'retry' | 'compensate' | 'park';

/** Failure types participants answer with; retry policies list some of them. */
export const FAILURE_TYPES = ['busy', 'declined', 'timeout', 'invalid'] as const;

/** Retry options with every field set, durations in ms (so the model knows the exact policy). */
export interface RetryShape {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly retryOn: readonly string[];
  readonly neverRetryOn: readonly string[];
}

/**
 * A bug in the author's code, there for the whole run: a payload function that throws or
 * builds an invalid command; a parallel member's payload that throws once a sibling completed
 * (so on a later attempt); a compensation payload that throws or is invalid; a `when` or local
 * step that throws; an `onReply` that throws on replies whose id starts with `bad`.
 */
export type Fault =
  | 'payload'
  | 'invalidPayload'
  | 'payloadAfterSibling'
  | 'compensationPayload'
  | 'invalidCompensation'
  | 'condition'
  | 'local'
  | 'onReply';

/** Failure types the engine gives author faults (a deploy fixes them, not a retry). */
export const FAULT_TYPES = [
  'invalid-command',
  'condition-threw',
  'local-step-threw',
  'on-reply-threw',
];

export interface StepShape {
  readonly name: string;
  readonly kind: ShapeKind;
  readonly fault: Fault | null;
  /** A `when` condition: the step is skipped when the input lists its name. */
  readonly conditional: boolean;
  readonly timeoutMs: number | null;
  /** Only with a timeout; never `compensate` on a retriable step. */
  readonly onTimeout: TimeoutPolicy | null;
  /** Null: the DSL's defaults. */
  readonly retry: RetryShape | null;
  /** Compensatable steps only. */
  readonly compensation: {
    readonly timeoutMs: number | null;
    readonly retry: RetryShape | null;
  } | null;
}

export interface StageShape {
  readonly name: string;
  readonly parallel: boolean;
  readonly steps: readonly StepShape[];
}

export interface SagaShape {
  readonly deadlineMs: number | null;
  readonly stages: readonly StageShape[];
}

/** Options the generator varies; the defaults are the main property's. */
export interface ShapeOptions {
  /** Allow a `when` condition on the pivot (a skipped pivot: see docs/reliability.md). */
  readonly conditionalPivot?: boolean;
  /** Generate author faults (default true). */
  readonly faults?: boolean;
  readonly focus?: ShapeFocus;
}

/** The same definition once the author's bugs are fixed (same graph, so the same version). */
export function withoutFaults(shape: SagaShape): SagaShape {
  return {
    ...shape,
    stages: shape.stages.map((stage) => ({
      ...stage,
      steps: stage.steps.map((step) => ({ ...step, fault: null })),
    })),
  };
}

/** The DSL's documented defaults (docs/dsl.md, "Step options"). */
export function defaultRetry(kind: ShapeKind | 'compensation'): RetryShape {
  const attempts = { compensatable: 3, pivot: 3, retriable: 10, compensation: 5 } as const;
  return {
    maxAttempts: kind in attempts ? attempts[kind as keyof typeof attempts] : 1,
    initialDelayMs: 1000,
    multiplier: 2,
    maxDelayMs: 60_000,
    jitter: 0.2,
    retryOn: [],
    neverRetryOn: [],
  };
}

/** The steps in definition order; a step's position here is its index. */
export function flatSteps(shape: SagaShape): StepShape[] {
  return shape.stages.flatMap((s) => s.steps);
}

/**
 * Delays are 0 or at least 20 ms and jitter at most 0.9, so a backoff is 0 exactly when its
 * capped delay is 0: the model knows when a retry is sent at once without knowing the jitter.
 */
const retryArb: fc.Arbitrary<RetryShape> = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 4 }),
    initialDelayMs: fc.constantFrom(0, 20, 100, 1000),
    multiplier: fc.constantFrom(1, 1.5, 2, 3),
    maxDelayMs: fc.constantFrom(0, 20, 500, 60_000),
    jitter: fc.constantFrom(0, 0.2, 0.5, 0.9),
    lists: fc.array(fc.constantFrom('on', 'never', 'none'), {
      minLength: FAILURE_TYPES.length,
      maxLength: FAILURE_TYPES.length,
    }),
  })
  .map(({ lists, ...policy }) => ({
    ...policy,
    retryOn: FAILURE_TYPES.filter((_, i) => lists[i] === 'on'),
    neverRetryOn: FAILURE_TYPES.filter((_, i) => lists[i] === 'never'),
  }));

/** `fc.option`'s freq is the odds of nil: 2 → null half the time. */
const timeoutArb = fc.option(fc.constantFrom(50, 200, 1000, 5000), { freq: 2 });
const ALL_FAULTS: readonly Fault[] = [
  'payload',
  'invalidPayload',
  'payloadAfterSibling',
  'compensationPayload',
  'invalidCompensation',
  'condition',
  'local',
  'onReply',
];

/** Null `oddsAgainst` times as often as a fault; `favour` weighs 16 among the faults. */
function faultArb(oddsAgainst: number, favour: Fault | null): fc.Arbitrary<Fault | null> {
  return fc.oneof(
    { weight: oddsAgainst * (ALL_FAULTS.length + 3), arbitrary: fc.constant(null) },
    ...ALL_FAULTS.map((fault) => ({
      weight: fault === favour ? 16 : 1,
      arbitrary: fc.constant(fault),
    })),
  );
}

/** Options of one awaited step, before its kind and name are known. */
interface StepTemplate {
  readonly conditional: boolean;
  readonly fault: Fault | null;
  readonly timeoutMs: number | null;
  readonly onTimeout: TimeoutPolicy | null;
  readonly retry: RetryShape | null;
  readonly compensationTimeoutMs: number | null;
  readonly compensationRetry: RetryShape | null;
}

function templateArb(
  faultOdds: number,
  favour: Fault | null,
  quiet: boolean,
): fc.Arbitrary<StepTemplate> {
  if (quiet)
    return fc.record({
      conditional: fc.constant(false),
      fault: faultArb(faultOdds, favour),
      timeoutMs: fc.constant(null),
      onTimeout: fc.constant(null),
      retry: fc.constant(null),
      compensationTimeoutMs: fc.constant(null),
      compensationRetry: fc.constant(null),
    });
  return fc.record({
    conditional: fc.oneof(
      { weight: 5, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    fault: faultOdds === 0 ? fc.constant(null) : faultArb(faultOdds, favour),
    timeoutMs: timeoutArb,
    onTimeout: fc.option(fc.constantFrom<TimeoutPolicy>('retry', 'compensate', 'park'), {
      freq: 2,
    }),
    retry: fc.option(retryArb, { freq: 4 }),
    compensationTimeoutMs: timeoutArb,
    compensationRetry: fc.option(retryArb, { freq: 4 }),
  });
}

type StageForm = 'single' | 'group' | 'notify' | 'local';

/** One stage, whatever side of the pivot it falls on: the side decides the kinds. */
interface StageTemplate {
  readonly form: StageForm;
  readonly members: readonly StepTemplate[];
}

/**
 * `broad`: every shape, faults in about one step in fifteen. `parallel` (swarm-style focus):
 * up to three stages, mostly groups of three or four, frequent faults (mostly a payload that
 * throws once a sibling completed) — where a member's failure meets its siblings' retries and
 * operator actions. `backoff`: groups only, no timeouts, the default retries (1 s backoff), so
 * members wait out backoffs side by side while operators act.
 */
export type ShapeFocus = 'broad' | 'parallel' | 'backoff';

const FOCUS = {
  broad: {
    forms: [5, 2, 1, 1],
    maxStages: 6,
    minGroup: 2,
    faultOdds: 14,
    favour: null,
    quiet: false,
  },
  parallel: {
    forms: [1, 6, 1, 1],
    maxStages: 3,
    minGroup: 3,
    faultOdds: 3,
    favour: 'payloadAfterSibling',
    quiet: false,
  },
  backoff: {
    forms: [0, 1, 0, 0],
    maxStages: 2,
    minGroup: 3,
    faultOdds: 3,
    favour: 'payloadAfterSibling',
    quiet: true,
  },
} as const;

function stageArb(focus: ShapeFocus, faults: boolean): fc.Arbitrary<StageTemplate> {
  const f = FOCUS[focus];
  const forms: StageForm[] = ['single', 'group', 'notify', 'local'];
  return fc.record({
    form: fc.oneof(
      ...forms
        .map((form, i) => ({ weight: f.forms[i]!, arbitrary: fc.constant(form) }))
        .filter((w) => w.weight > 0),
    ),
    members: fc.array(templateArb(faults ? f.faultOdds : 0, f.favour, f.quiet), {
      minLength: 4,
      maxLength: 4,
    }),
  });
}

/** Random valid definitions: 1–6 stages, an optional pivot, parallel groups on both sides. */
export function sagaShapeArb(options: ShapeOptions = {}): fc.Arbitrary<SagaShape> {
  const focus = options.focus ?? 'broad';
  const f = FOCUS[focus];
  return fc
    .record({
      stages: fc.array(stageArb(focus, options.faults ?? true), {
        minLength: 1,
        maxLength: f.maxStages,
        size: 'max',
      }),
      pivot: fc.option(fc.nat(), { freq: 3 }),
      groupSize: fc.array(fc.integer({ min: f.minGroup, max: 4 }), {
        minLength: 6,
        maxLength: 6,
      }),
      deadlineMs: fc.option(fc.constantFrom(300, 2000, 10_000, 60_000), { freq: 2 }),
    })
    .map(({ stages, pivot, groupSize, deadlineMs }) => {
      const pivotAt = pivot === null ? null : pivot % stages.length;
      return {
        deadlineMs,
        stages: stages.map((stage, i) =>
          toStage(stage, i, pivotAt, groupSize[i]!, options.conditionalPivot ?? false),
        ),
      };
    });
}

function toStage(
  template: StageTemplate,
  index: number,
  pivotAt: number | null,
  groupSize: number,
  conditionalPivot: boolean,
): StageShape {
  const [first] = template.members;
  if (index === pivotAt) {
    const conditional = conditionalPivot && first!.conditional;
    return single(toStep({ ...first!, conditional }, `s${index}`, 'pivot'));
  }
  const kind: ShapeKind = pivotAt !== null && index > pivotAt ? 'retriable' : 'compensatable';
  switch (template.form) {
    case 'single':
      return single(toStep(first!, `s${index}`, kind));
    case 'group':
      return {
        name: `g${index}`,
        parallel: true,
        steps: template.members
          .slice(0, groupSize)
          .map((m, j) => toStep(m, `g${index}m${j}`, kind, true)),
      };
    case 'notify':
      return single(plain(`n${index}`, 'notification', first!));
    case 'local':
      return single(plain(`l${index}`, 'local', first!));
  }
}

function single(step: StepShape): StageShape {
  return { name: step.name, parallel: false, steps: [step] };
}

function plain(name: string, kind: 'notification' | 'local', t: StepTemplate): StepShape {
  const none = { timeoutMs: null, onTimeout: null, retry: null, compensation: null };
  // `.local(name, transform)` takes no `when`: a local step always runs.
  const conditional = kind === 'notification' && t.conditional;
  return { name, kind, conditional, fault: faultFor(kind, conditional, false, t.fault), ...none };
}

/** The faults a step of this kind can have (the others are dropped). */
function faultFor(
  kind: ShapeKind,
  conditional: boolean,
  grouped: boolean,
  fault: Fault | null,
): Fault | null {
  if (fault === null) return null;
  if (kind === 'local') return fault === 'local' ? fault : null;
  if (fault === 'condition') return conditional ? fault : null;
  if (fault === 'compensationPayload' || fault === 'invalidCompensation')
    return kind === 'compensatable' ? fault : null;
  if (fault === 'onReply') return kind === 'notification' ? null : fault;
  if (fault === 'payloadAfterSibling') return grouped ? fault : null;
  return fault === 'local' ? null : fault;
}

function toStep(t: StepTemplate, name: string, kind: ShapeKind, grouped = false): StepShape {
  const onTimeout =
    t.timeoutMs === null || (kind === 'retriable' && t.onTimeout === 'compensate')
      ? null
      : t.onTimeout;
  return {
    name,
    kind,
    conditional: t.conditional,
    fault: faultFor(kind, t.conditional, grouped, t.fault),
    timeoutMs: t.timeoutMs,
    onTimeout,
    retry: t.retry,
    compensation:
      kind === 'compensatable'
        ? { timeoutMs: t.compensationTimeoutMs, retry: t.compensationRetry }
        : null,
  };
}
