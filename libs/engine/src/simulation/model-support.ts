import { ok } from 'node:assert/strict';
import { SagaEvent } from '../saga-event';
import { SimData } from './build';
import { Expectation, MDone, MKind, MMember, MPhase, MSend, MState, MTimer } from './model-state';
import { RetryShape, StepShape } from './shape';

/* The reference model's building blocks: its options, a transition in progress, pure helpers. */

/**
 * Engine behaviours the model knows to be wrong. The main property tolerates them (the model
 * follows the engine) so that it can go on finding other bugs; the regression cases that show
 * them run strict and are skipped until the engine is fixed.
 */
export type KnownBug =
  /** Operator retry/skip of a failed stage forgets that another member had failed for good. */
  | 'retry-drops-stage-failure'
  /** Past the pivot, a failure entering a stage resumes at that stage, skipping the stages passed on the way. */
  | 'entering-failure-resumes-too-late'
  /** Operator retry/skip of a step whose onReply threw leaves it completed while it is sent again. */
  | 'retry-keeps-completed-step'
  /** Operator resume goes on sending members the stage abandoned when one of them failed: orphan commands. */
  | 'resume-sends-abandoned-member'
  /** A pivot skipped by its `when` does not count as passed: steps after it ran, yet the saga compensates. */
  | 'skipped-pivot-allows-compensation';

export interface ModelOptions {
  readonly tolerate?: readonly KnownBug[];
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A state under construction: one event's transition. */
export class Draft {
  phase: MPhase;
  done: MDone[];
  data: SimData;
  deadlineArmed: boolean;
  readonly sends: MSend[] = [];
  readonly timers: MTimer[] = [];
  readonly lifecycle: string[] = [];

  constructor(s: Omit<MState, 'version'>) {
    this.phase = s.phase;
    this.done = [...s.done];
    this.data = s.data;
    this.deadlineArmed = s.deadlineArmed;
  }

  running(): Extract<MPhase, { status: 'running' }> {
    ok(this.phase.status === 'running', `model: expected running, is ${this.phase.status}`);
    return this.phase;
  }

  compensating(): Extract<MPhase, { status: 'compensating' }> {
    ok(this.phase.status === 'compensating', `model: expected compensating`);
    return this.phase;
  }
}

export const ignored = (reason: 'late' | 'stale'): Expectation => ({ kind: 'ignored', reason });
export const rejected = (reason: string): Expectation => ({ kind: 'rejected', reason });
export const ILLEGAL = rejected('illegal-action');

export type SagaEventOutcome = Extract<SagaEvent, { type: 'replyReceived' }>['outcome'];

export function applied(d: Draft, version: number): Expectation {
  const next: MState = {
    phase: d.phase,
    done: d.done,
    data: d.data,
    deadlineArmed: d.deadlineArmed,
    version: version + 1,
  };
  return { kind: 'applied', next, sends: d.sends, timers: d.timers, lifecycle: d.lifecycle };
}

export function exact(key: string, delay: number): MTimer {
  return { key, minDelay: delay, maxDelay: delay };
}

export function replaceMember(d: Draft, member: MMember): void {
  const p = d.running();
  d.phase = { ...p, members: p.members.map((m) => (m.step === member.step ? member : m)) };
}

/** A member that waited for its reply gets a new attempt; one waiting for a retry was never sent. */
export function nextAttempt(m: MMember): MMember {
  return {
    step: m.step,
    attempt: m.waiting === 'reply' ? m.attempt + 1 : m.attempt,
    waiting: 'reply',
    afterTimeout: false,
  };
}

/**
 * docs/dsl.md: retried when the type is in `retryOn`, or the failure is retryable and its type
 * not in `neverRetryOn`, while attempts remain; the delay is min(maxDelay, initial × multiplier^(n−1))
 * minus up to `jitter` of it. Null: no retry.
 */
export function retryDelay(
  policy: RetryShape,
  retryable: boolean,
  type: string,
  current: { attempt: number },
): { minDelay: number; maxDelay: number } | null {
  const retried =
    policy.retryOn.includes(type) || (retryable && !policy.neverRetryOn.includes(type));
  if (!retried || current.attempt >= policy.maxAttempts) return null;
  const capped = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** (current.attempt - 1),
  );
  return { minDelay: Math.round(capped * (1 - policy.jitter)), maxDelay: Math.round(capped) };
}

/** The reply schemas of the generated commands (build.ts), as plain checks. */
export function parseReply(
  step: StepShape,
  kind: MKind,
  data: unknown,
): { ok: true; value: { id?: string } } | { ok: false } {
  if (kind === 'compensate')
    return isObject(data) && (data.undone === undefined || typeof data.undone === 'boolean')
      ? { ok: true, value: {} }
      : { ok: false };
  if (step.kind === 'local') return { ok: true, value: data as { id?: string } };
  if (step.kind === 'notification') return isObject(data) ? { ok: true, value: {} } : { ok: false };
  return isObject(data) && typeof data.id === 'string'
    ? { ok: true, value: { id: data.id } }
    : { ok: false };
}
