import { SagaInstance } from '../saga-instance';
import { SimData } from './build';

/*
 * The reference model's own state. It mirrors what docs/architecture.md says an instance holds
 * (the shape must be comparable with the engine's), but every transition that produces it is
 * written from the documentation in model.ts, without calling the engine.
 */

export type MKind = 'forward' | 'compensate';
export type MWaiting = 'reply' | 'retry';

export interface MCause {
  readonly step: string;
  readonly kind: MKind;
  readonly type: string;
}

/** A step of the current stage still outstanding. */
export interface MMember {
  readonly step: number;
  readonly attempt: number;
  readonly waiting: MWaiting;
  /** Waiting for a retry after a timeout: that attempt may have been applied. */
  readonly afterTimeout: boolean;
}

/** A forward step that took effect (or may have: `unknown`), in completion order. */
export interface MDone {
  readonly step: number;
  readonly unknown: boolean;
  readonly log: unknown;
}

export type MResume =
  | {
      readonly kind: 'forward';
      readonly stage: number;
      readonly members: readonly MMember[];
      /** Not in the engine's state: what the stage had already failed with (see model.ts). */
      readonly stageFailure: MCause | null;
    }
  | {
      readonly kind: 'compensate';
      readonly step: number;
      readonly attempt: number;
      readonly queue: readonly number[];
    };

export type MPhase =
  | {
      readonly status: 'running';
      readonly stage: number;
      readonly members: readonly MMember[];
      readonly stageFailure: MCause | null;
    }
  | {
      readonly status: 'compensating';
      readonly step: number;
      readonly attempt: number;
      readonly waiting: MWaiting;
      readonly queue: readonly number[];
      readonly cause: MCause;
    }
  | { readonly status: 'completed' }
  | { readonly status: 'compensated'; readonly cause: MCause }
  | {
      readonly status: 'failed';
      readonly failedStep: number;
      readonly cause: MCause;
      readonly resume: MResume;
    };

export interface MState {
  readonly phase: MPhase;
  readonly done: readonly MDone[];
  readonly data: SimData;
  readonly version: number;
  /** The deadline timer is set: scheduled at start, gone once it fired or the saga stopped. */
  readonly deadlineArmed: boolean;
}

/** A command the model expects a decision to send. */
export interface MSend {
  readonly step: string;
  readonly kind: MKind;
  readonly attempt: number;
  readonly expectsReply: boolean;
  readonly payload: unknown;
}

/** A timer the model expects a decision to schedule; a retry's jitter is only bounded. */
export interface MTimer {
  readonly key: string;
  readonly minDelay: number;
  readonly maxDelay: number;
}

export type Expectation =
  | {
      readonly kind: 'applied';
      readonly next: MState;
      readonly sends: readonly MSend[];
      readonly timers: readonly MTimer[];
      /** Lifecycle events, as `event` or `event:step`. */
      readonly lifecycle: readonly string[];
    }
  | { readonly kind: 'ignored'; readonly reason: 'late' | 'stale' }
  | { readonly kind: 'rejected'; readonly reason: string };

/** The comparable part of a state: what the model and the engine must agree on. */
export interface StateView {
  readonly status: string;
  readonly version: number;
  readonly data: unknown;
  readonly completed: readonly MDone[];
  readonly detail: unknown;
}

const members = (ms: readonly MMember[]) =>
  [...ms]
    .sort((a, b) => a.step - b.step)
    .map((m) => ({
      step: m.step,
      attempt: m.attempt,
      waiting: m.waiting,
      // Only meaningful while waiting for a retry (the engine keeps the flag after resending).
      afterTimeout: m.waiting === 'retry' && m.afterTimeout,
    }));

const cause = (c: { step: string; kind: string; type: string } | null) =>
  c === null ? null : { step: c.step, kind: c.kind, type: c.type };

export function modelView(s: MState): StateView {
  const p = s.phase;
  const detail =
    p.status === 'running'
      ? { stage: p.stage, members: members(p.members), stageFailure: cause(p.stageFailure) }
      : p.status === 'compensating'
        ? { step: p.step, attempt: p.attempt, waiting: p.waiting, queue: p.queue, cause: p.cause }
        : p.status === 'compensated'
          ? { cause: p.cause }
          : p.status === 'failed'
            ? { failedStep: p.failedStep, cause: p.cause, resume: resumeView(p.resume) }
            : {};
  return { status: p.status, version: s.version, data: s.data, completed: s.done, detail };
}

function resumeView(r: MResume): unknown {
  return r.kind === 'forward'
    ? { kind: r.kind, stage: r.stage, members: members(r.members) }
    : { kind: r.kind, step: r.step, attempt: r.attempt, queue: r.queue };
}

/** The same view of an engine instance (read from its fields only). */
export function engineView(i: SagaInstance): StateView {
  const completed = i.completed.map((c) => ({
    step: c.index,
    unknown: c.unknown === true,
    log: c.log,
  }));
  const toMembers = (ps: readonly { step: number; attempt: number; waiting: MWaiting }[]) =>
    members(
      ps.map((p) => ({ ...p, afterTimeout: 'afterTimeout' in p && p.afterTimeout === true })),
    );
  let detail: unknown = {};
  if (i.status === 'running')
    detail = {
      stage: i.stage,
      members: toMembers(i.pending),
      stageFailure: cause(i.stageFailure),
    };
  else if (i.status === 'compensating')
    detail = {
      step: i.currentStep,
      attempt: i.attempt,
      waiting: i.waiting,
      queue: i.remaining,
      cause: cause(i.cause),
    };
  else if (i.status === 'compensated') detail = { cause: cause(i.cause) };
  else if (i.status === 'failed') {
    const r = i.resume;
    detail = {
      failedStep: i.failedStep,
      cause: cause(i.cause),
      resume:
        r === null
          ? null
          : r.kind === 'forward'
            ? { kind: r.kind, stage: r.stage, members: toMembers(r.pending) }
            : { kind: r.kind, step: r.step, attempt: r.attempt, queue: r.remaining },
    };
  }
  return { status: i.status, version: i.version, data: i.data, completed, detail };
}
