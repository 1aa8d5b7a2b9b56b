import { ok } from 'node:assert/strict';
import { OperatorAction, SagaEvent } from '../saga-event';
import {
  Expectation,
  MCause,
  MDone,
  MKind,
  MMember,
  MPhase,
  MResume,
  MState,
  MWaiting,
} from './model-state';
import { ModelCore } from './model-core';
import {
  applied,
  Draft,
  exact,
  ignored,
  ILLEGAL,
  isObject,
  ModelOptions,
  nextAttempt,
  parseReply,
  rejected,
  SagaEventOutcome,
} from './model-support';
import { SagaShape } from './shape';

export type { KnownBug, ModelOptions } from './model-support';

/*
 * The reference model: what each event must do to a saga, written from docs/architecture.md
 * ("The engine core", the operator actions table) and docs/dsl.md, without calling the engine.
 * Message ids, idempotency keys and timer keys follow the formats those documents give.
 */

type Target = { readonly member: MMember } | Expectation;

export class ReferenceModel extends ModelCore {
  constructor(shape: SagaShape, options: ModelOptions = {}) {
    super(shape, options);
  }

  /** What `decide` must answer to `event` in the current state. */
  expect(event: SagaEvent): Expectation {
    if (event.type === 'started') return this.start(event.sagaId, event.input);
    const s = this.state;
    ok(s, 'model: an event before the start');
    switch (event.type) {
      case 'replyReceived':
        return this.reply(s, event.step, event.kind, event.attempt, event.outcome);
      case 'timedOut':
        return this.timedOut(s, event.step, event.kind, event.attempt);
      case 'retryDue':
        return this.retryDue(s, event.step, event.kind, event.attempt);
      case 'deadlineReached':
        return this.deadline(s);
      case 'operatorAction':
        return this.operator(s, event.action);
    }
  }

  /** Keeps the outcome of an event; a fired deadline is gone whatever the decision was. */
  commit(event: SagaEvent, e: Expectation): void {
    if (e.kind === 'applied') this.state = e.next;
    if (event.type === 'deadlineReached' && this.state)
      this.state = { ...this.state, deadlineArmed: false };
  }

  /** Timers that must be armed now for the saga not to stop silently. */
  requiredTimers(): string[] {
    const s = this.state;
    if (!s) return [];
    const keys = s.deadlineArmed ? [this.deadlineKey] : [];
    const p = s.phase;
    const need = (step: number, kind: MKind, attempt: number, waiting: MWaiting) => {
      const shape = this.steps[step]!;
      const timeout = kind === 'forward' ? shape.timeoutMs : shape.compensation?.timeoutMs;
      if (waiting === 'retry') keys.push(this.timerKey(shape.name, kind, attempt, 'retry'));
      else if (timeout !== null && timeout !== undefined)
        keys.push(this.timerKey(shape.name, kind, attempt, 'timeout'));
    };
    if (p.status === 'running')
      for (const m of p.members) need(m.step, 'forward', m.attempt, m.waiting);
    if (p.status === 'compensating') need(p.step, 'compensate', p.attempt, p.waiting);
    return keys;
  }

  // Events.

  private start(sagaId: string, input: unknown): Expectation {
    const valid =
      isObject(input) &&
      typeof input.order === 'string' &&
      Array.isArray(input.skip) &&
      input.skip.every((s) => typeof s === 'string');
    if (!valid) return rejected('invalid-input');
    this.sagaId = sagaId;
    const data = { order: input.order as string, skip: input.skip as string[] };
    const d = new Draft({ phase: { status: 'completed' }, done: [], data, deadlineArmed: false });
    d.lifecycle.push('saga.started');
    if (this.shape.deadlineMs !== null) {
      d.timers.push(exact(this.deadlineKey, this.shape.deadlineMs));
      d.deadlineArmed = true;
    }
    this.enter(d, 0);
    return applied(d, 0);
  }

  private reply(
    s: MState,
    name: string,
    kind: MKind,
    attempt: number,
    outcome: SagaEventOutcome,
  ): Expectation {
    const index = this.indexOf(name);
    if (index === -1) return rejected('unknown-step');
    const t = this.awaiting(s, index, kind, attempt, 'reply');
    if (!('member' in t)) return t;
    const d = new Draft(s);
    if (outcome.status === 'failure') {
      const cause = { step: name, kind, type: outcome.type };
      if (kind === 'compensate') this.compensationFailed(d, cause, outcome.retryable);
      else
        this.forwardFailed(d, t.member, cause, {
          retryable: outcome.retryable,
          unknown: false,
          allowRetry: true,
        });
      return applied(d, s.version);
    }
    const log = parseReply(this.steps[index]!, kind, outcome.data);
    if (!log.ok) return rejected('invalid-reply');
    if (kind === 'compensate')
      this.compensateFrom(d, d.compensating().queue, d.compensating().cause);
    else {
      d.lifecycle.push(`saga.stepCompleted:${name}`);
      this.forwardSucceeded(d, t.member, log.value);
    }
    return applied(d, s.version);
  }

  /** A timeout is an unknown outcome: retry, give up (compensate) or park, as the step says. */
  private timedOut(s: MState, name: string, kind: MKind, attempt: number): Expectation {
    const index = this.indexOf(name);
    const t = this.awaiting(s, index, kind, attempt, 'reply');
    if (!('member' in t)) return t;
    const d = new Draft(s);
    const cause = { step: name, kind, type: 'timeout' };
    if (kind === 'compensate') {
      this.compensationFailed(d, cause, true);
      return applied(d, s.version);
    }
    const policy = this.steps[index]!.onTimeout ?? 'retry';
    if (policy === 'park') this.fail(d, index, cause, this.resumeOf(d.running()));
    else
      this.forwardFailed(d, t.member, cause, {
        retryable: policy === 'retry',
        unknown: true,
        allowRetry: policy === 'retry',
      });
    return applied(d, s.version);
  }

  private retryDue(s: MState, name: string, kind: MKind, attempt: number): Expectation {
    const index = this.indexOf(name);
    const t = this.awaiting(s, index, kind, attempt, 'retry');
    if (!('member' in t)) return t;
    const d = new Draft(s);
    if (kind === 'compensate') {
      d.phase = { ...d.compensating(), waiting: 'reply' };
      this.sendCompensation(d);
    } else {
      this.sendForward(d, t.member);
    }
    return applied(d, s.version);
  }

  /** Before the pivot: start nothing new, await what is awaited, then compensate. After: recorded. */
  private deadline(s: MState): Expectation {
    if (s.phase.status !== 'running') return ignored('late');
    const d = new Draft(s);
    d.deadlineArmed = false;
    const p = d.running();
    if (this.pastPivot(d.done)) return applied(d, s.version);
    const cause: MCause = {
      step: this.shape.stages[p.stage]!.name,
      kind: 'forward',
      type: 'deadline',
    };
    const settled = this.abandonRetries(d, p.members);
    if (settled.pivotUnknown !== null) this.fail(d, settled.pivotUnknown, cause, this.resumeOf(p));
    else if (settled.members.length === 0) this.compensate(d, cause);
    else d.phase = { ...p, members: settled.members, stageFailure: p.stageFailure ?? cause };
    return applied(d, s.version);
  }

  /** Is the saga waiting for exactly this step, kind, attempt (for a reply, or a retry)? */
  private awaiting(
    s: MState,
    index: number,
    kind: MKind,
    attempt: number,
    waiting: MWaiting,
  ): Target {
    const p = s.phase;
    if (p.status === 'running' && kind === 'forward') {
      const member = p.members.find(
        (m) => m.step === index && m.attempt === attempt && m.waiting === waiting,
      );
      if (member) return { member };
    }
    if (
      p.status === 'compensating' &&
      kind === 'compensate' &&
      p.step === index &&
      p.attempt === attempt &&
      p.waiting === waiting
    )
      return { member: { step: index, attempt, waiting, afterTimeout: false } };
    return ignored(p.status === 'running' || p.status === 'compensating' ? 'stale' : 'late');
  }

  // Operator actions (docs/architecture.md, the operator actions table).

  private operator(s: MState, action: OperatorAction): Expectation {
    switch (action.type) {
      case 'retry':
        return this.retry(s);
      case 'resume':
        return this.resume(s);
      case 'compensate':
      case 'cancel':
        return this.compensateNow(s, action.type === 'cancel');
      case 'skip':
        return this.skip(s, action.step, action.reply);
      case 'markCompensated':
        return this.markCompensated(s);
    }
  }

  /** Failed only: the failed compensation again, or the stage's outstanding steps as new attempts. */
  private retry(s: MState): Expectation {
    const p = s.phase;
    if (p.status !== 'failed') return ILLEGAL;
    const d = new Draft(s);
    const r = p.resume;
    if (r.kind === 'compensate') {
      const attempt = r.attempt + 1;
      d.phase = {
        status: 'compensating',
        step: r.step,
        attempt,
        waiting: 'reply',
        queue: r.queue,
        cause: p.cause,
      };
      this.sendCompensation(d);
    } else if (r.members.length === 0) this.enter(d, r.stage);
    else {
      const resent = r.members.map(nextAttempt);
      this.reopen(d, r, resent);
      this.sendMembers(d, resent);
    }
    return applied(d, s.version);
  }

  /** Running again at the resume point; outcomes being resolved are no longer "unknown". */
  private reopen(d: Draft, r: Extract<MResume, { kind: 'forward' }>, members: MMember[]): void {
    // A step sent again is being resolved: its earlier outcome (unknown, or known but its
    // onReply threw) is replaced by the one to come, so it is never completed twice.
    const resolving = (x: MDone) => members.some((m) => m.step === x.step);
    if (
      this.tolerate.has('retry-keeps-completed-step') &&
      d.done.some((x) => resolving(x) && !x.unknown)
    )
      this.knownBugsHit.add('retry-keeps-completed-step');
    const keepKnown = this.tolerate.has('retry-keeps-completed-step');
    d.done = d.done.filter((x) => !resolving(x) || (keepKnown && !x.unknown));
    // A stage that had already failed (a member failed for good, or the deadline stopped it and
    // abandoned members waiting to retry) has still failed after its other members are retried:
    // once they settle, the saga compensates. Without that, it completes without those members.
    let kept = r.stageFailure;
    if (kept && this.tolerate.has('retry-drops-stage-failure')) {
      this.knownBugsHit.add('retry-drops-stage-failure');
      kept = null;
    }
    d.phase = { status: 'running', stage: r.stage, members, stageFailure: kept };
  }

  private resume(s: MState): Expectation {
    const p = s.phase;
    const d = new Draft(s);
    if (p.status === 'compensating' && p.waiting === 'retry') {
      d.phase = { ...p, waiting: 'reply' };
      this.sendCompensation(d);
      return applied(d, s.version);
    }
    if (p.status !== 'running' || !p.members.some((m) => m.waiting === 'retry')) return ILLEGAL;
    this.sendMembers(
      d,
      p.members.filter((x) => x.waiting === 'retry'),
    );
    return applied(d, s.version);
  }

  /** Running, or failed by a forward step; never past the pivot nor with its outcome unknown. */
  private compensateNow(s: MState, cancel: boolean): Expectation {
    const p = s.phase;
    const outstanding =
      p.status === 'running'
        ? p.members
        : p.status === 'failed' && p.cause.kind === 'forward'
          ? p.resume.kind === 'forward'
            ? p.resume.members
            : []
          : null;
    if (outstanding === null || this.pastPivot(s.done)) return ILLEGAL;
    const pivotUnknown =
      outstanding.some((m) => m.step === this.pivot) ||
      s.done.some((x) => x.step === this.pivot && x.unknown);
    if (pivotUnknown) return ILLEGAL;
    const d = new Draft(s);
    for (const m of outstanding)
      if ((m.waiting === 'reply' || m.afterTimeout) && !d.done.some((x) => x.step === m.step))
        d.done.push({ step: m.step, unknown: true, log: undefined });
    const where =
      p.status === 'running'
        ? this.shape.stages[p.stage]!.name
        : this.steps[(p as Extract<MPhase, { status: 'failed' }>).failedStep]!.name;
    this.compensate(d, {
      step: where,
      kind: 'forward',
      type: cancel ? 'cancelled' : 'operator-compensate',
    });
    return applied(d, s.version);
  }

  /** The operator's reply data stands for the step's reply (schema and onReply included). */
  private skip(s: MState, name: string, reply: unknown): Expectation {
    const index = this.indexOf(name);
    if (index === -1) return rejected('unknown-step');
    const log = parseReply(this.steps[index]!, 'forward', reply);
    if (!log.ok) return rejected('invalid-reply');
    const p = s.phase;
    const d = new Draft(s);
    if (p.status === 'running') {
      const member = p.members.find((m) => m.step === index);
      if (!member) return ILLEGAL;
      this.forwardSucceeded(d, member, log.value);
      return applied(d, s.version);
    }
    if (p.status !== 'failed' || p.resume.kind !== 'forward') return ILLEGAL;
    const member = p.resume.members.find((m) => m.step === index);
    if (!member) return ILLEGAL;
    const others = p.resume.members.filter((m) => m !== member).map(nextAttempt);
    this.reopen(d, p.resume, [member, ...others]);
    this.sendMembers(d, others);
    if (d.phase.status === 'running') this.forwardSucceeded(d, member, log.value);
    return applied(d, s.version);
  }

  private markCompensated(s: MState): Expectation {
    const p = s.phase;
    const d = new Draft(s);
    if (p.status === 'compensating') this.compensateFrom(d, p.queue, p.cause);
    else if (p.status === 'failed' && p.resume.kind === 'compensate')
      this.compensateFrom(d, p.resume.queue, p.cause);
    else return ILLEGAL;
    return applied(d, s.version);
  }
}
