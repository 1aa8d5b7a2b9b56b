import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { Decision, EmitEventEffect, SendCommandEffect } from '../decision';
import { SagaEvent } from '../saga-event';
import { SagaInstance } from '../saga-instance';
import { KnownBug } from './model';
import { flatSteps, SagaShape, StepShape } from './shape';

/*
 * Invariants from RELIABILITY.md checked on what the engine says and does — its decisions,
 * effects and the instances it returns — against the events that were fed to it. They do not
 * use the reference model: where both agree with a wrong idea, these still catch the outcome
 * (a compensation past the pivot, an effect twice, a saga that stops waiting for nothing).
 */

/** What the pivot's participant is known to have done, as far as the saga can know. */
type PivotKnowledge = 'unsent' | 'inFlight' | 'failed' | 'succeeded';

/** What the shell holds for the saga: armed timers and sent commands. */
export interface ShellView {
  readonly armed: ReadonlySet<string>;
  /** Tolerated engine bugs the run ran into (model.ts): their consequences are not reported. */
  readonly knownBugsHit: ReadonlySet<KnownBug>;
}

export class Ledger {
  private readonly steps: readonly StepShape[];
  private readonly messageIds = new Set<string>();
  private readonly eventIds = new Set<string>();
  private readonly scheduledKeys = new Set<string>();
  private readonly forwardSent = new Set<string>();
  /** Steps whose forward took effect for sure (success reply or skip), in that order. */
  readonly completedInOrder: string[] = [];
  /** Steps whose latest forward answer was a definitive failure (it never took effect). */
  private readonly refused = new Set<string>();
  /** Compensations done (success reply or mark-compensated), in order. */
  readonly compensated: string[] = [];
  private pivot: PivotKnowledge = 'unsent';
  private compensationSent = false;

  constructor(
    shape: SagaShape,
    private readonly sagaId: string,
  ) {
    this.steps = flatSteps(shape);
  }

  /** One decided event: `before` is the stored instance it was decided on. */
  observe(
    before: SagaInstance | null,
    event: SagaEvent,
    decision: Decision,
    knownBugsHit: ReadonlySet<KnownBug>,
  ): void {
    if (before && (before.status === 'completed' || before.status === 'compensated'))
      ok(decision.kind !== 'applied', `a ${before.status} saga changed: terminal is final`);
    if (decision.kind !== 'applied') return;
    const next = decision.next;
    strictEqual(next.version, (before?.version ?? 0) + 1, 'versions go up by exactly one');
    strictEqual(next.id, this.sagaId);
    this.noteEvent(before, event);
    for (const effect of decision.effects) {
      if (effect.type === 'sendCommand') this.noteCommand(effect);
      if (effect.type === 'scheduleTimer') {
        ok(!this.scheduledKeys.has(effect.key), `timer ${effect.key} scheduled twice`);
        ok(effect.delayMs >= 0, `timer ${effect.key} has a negative delay`);
        this.scheduledKeys.add(effect.key);
      }
    }
    this.checkTransition(before, next, decision.effects.filter(isEmit));
    if (knownBugsHit.has('resume-sends-abandoned-member')) return;
    for (const c of decision.effects)
      if (c.type === 'sendCommand' && c.kind === 'forward' && c.expectsReply)
        this.checkOwned(c, next);
  }

  /**
   * A forward command just sent is awaited, counted as (maybe) done, or kept where a retry
   * resumes: otherwise its effect would go unseen and never be compensated.
   */
  private checkOwned(c: SendCommandEffect, next: SagaInstance): void {
    const index = this.steps.findIndex((s) => s.name === c.step);
    const same = (p: { step: number; attempt: number; waiting: string }) =>
      p.step === index && p.attempt === c.attempt && p.waiting === 'reply';
    const owned =
      (next.status === 'running' && next.pending.some(same)) ||
      next.completed.some((x) => x.index === index) ||
      (next.status === 'failed' &&
        next.resume?.kind === 'forward' &&
        next.resume.pending.some(same));
    ok(
      owned,
      `orphan command ${c.messageId}: sent, but the saga (${next.status}) neither awaits it nor counts it`,
    );
  }

  /** After the effects are carried out: the saga waits for something that can happen. */
  checkState(instance: SagaInstance, shell: ShellView): void {
    const indexes = instance.completed.map((c) => c.index);
    if (!shell.knownBugsHit.has('retry-keeps-completed-step'))
      strictEqual(
        new Set(indexes).size,
        indexes.length,
        `a step completed twice: ${JSON.stringify(instance.completed)}`,
      );
    if (instance.status === 'failed') {
      ok(instance.cause.type && instance.cause.message, '`failed` must say why');
      ok(this.steps[instance.failedStep], `failedStep ${instance.failedStep} is not a step`);
    }
    if (instance.status === 'completed') {
      ok(!this.compensationSent, 'a completed saga sent a compensation');
      const awaited = this.steps.filter(
        (s) => s.kind !== 'local' && s.kind !== 'notification' && this.forwardSent.has(s.name),
      );
      for (const s of awaited.filter(() => !shell.knownBugsHit.has('retry-drops-stage-failure')))
        ok(this.completedInOrder.includes(s.name), `completed without step ${s.name}`);
    }
    if (instance.status === 'compensated') this.checkCompensated(shell.knownBugsHit);
    if (instance.status === 'running') {
      ok(instance.pending.length > 0, 'a running saga awaits nothing');
      for (const p of instance.pending)
        this.checkAwaited(p.step, 'forward', p.attempt, p.waiting, shell);
    }
    if (instance.status === 'compensating')
      this.checkAwaited(
        instance.currentStep,
        'compensate',
        instance.attempt,
        instance.waiting,
        shell,
      );
  }

  /** A reply to a command that was sent, or a retry timer; the timeout armed when there is one. */
  private checkAwaited(
    index: number,
    kind: 'forward' | 'compensate',
    attempt: number,
    waiting: 'reply' | 'retry',
    shell: ShellView,
  ): void {
    const step = this.steps[index]!;
    const key = `${this.sagaId}:${step.name}:${kind}:${attempt}`;
    if (waiting === 'retry') {
      ok(shell.armed.has(`${key}:retry`), `${key} waits for a retry timer that is not armed`);
      return;
    }
    ok(this.messageIds.has(key), `${key} waits for a reply to a command never sent`);
    const timeout = kind === 'forward' ? step.timeoutMs : step.compensation?.timeoutMs;
    if (timeout !== null && timeout !== undefined)
      ok(shell.armed.has(`${key}:timeout`), `${key} has a timeout that is not armed`);
  }

  /** Every step known to have taken effect undone once, latest first; nothing else twice. */
  private checkCompensated(knownBugsHit: ReadonlySet<KnownBug>): void {
    ok(this.pivot !== 'succeeded', 'compensated after the pivot succeeded');
    // Steps after the pivot cannot be undone: a compensated saga must not have any in effect.
    const irreversible = this.completedInOrder.filter(
      (name) => this.steps.find((s) => s.name === name)!.kind === 'retriable',
    );
    if (!knownBugsHit.has('skipped-pivot-allows-compensation'))
      deepStrictEqual(irreversible, [], 'compensated, yet steps after the pivot took effect');
    const known = this.completedInOrder.filter(
      (name) => this.steps.find((s) => s.name === name)!.kind === 'compensatable',
    );
    for (const name of known)
      strictEqual(
        this.compensated.filter((c) => c === name).length,
        1,
        `step ${name} took effect but was compensated ${this.compensated.filter((c) => c === name).length} times`,
      );
    const order = this.compensated.filter((c) => known.includes(c));
    deepStrictEqual(order, [...known].reverse(), 'compensations out of reverse completion order');
  }

  private noteEvent(before: SagaInstance | null, event: SagaEvent): void {
    if (event.type === 'replyReceived' && event.kind === 'forward') {
      if (event.outcome.status === 'success') this.completed(event.step);
      else this.refused.add(event.step);
      if (this.isPivot(event.step))
        this.pivot = event.outcome.status === 'success' ? 'succeeded' : 'failed';
    }
    if (
      event.type === 'replyReceived' &&
      event.kind === 'compensate' &&
      event.outcome.status === 'success'
    )
      this.compensated.push(event.step);
    if (event.type === 'operatorAction' && event.action.type === 'skip') {
      this.completed(event.action.step);
      if (this.isPivot(event.action.step)) this.pivot = 'succeeded';
    }
    if (event.type === 'operatorAction' && event.action.type === 'markCompensated') {
      ok(before?.status === 'compensating' || before?.status === 'failed');
      const current =
        before.status === 'compensating'
          ? before.currentStep
          : before.status === 'failed' && before.resume?.kind === 'compensate'
            ? before.resume.step
            : -1;
      this.compensated.push(this.steps[current]!.name);
    }
  }

  /**
   * A step can be answered twice only when an operator had it sent again (its onReply threw
   * and the saga failed): the same idempotency key, so one effect. The first answer counts.
   */
  private completed(name: string): void {
    if (!this.completedInOrder.includes(name)) this.completedInOrder.push(name);
    this.refused.delete(name);
  }

  private noteCommand(c: SendCommandEffect): void {
    const step = this.steps.find((s) => s.name === c.step);
    ok(step, `a command for a step that does not exist: ${c.step}`);
    strictEqual(c.messageId, `${this.sagaId}:${c.step}:${c.kind}:${c.attempt}`, 'message id');
    ok(!this.messageIds.has(c.messageId), `command ${c.messageId} sent twice`);
    this.messageIds.add(c.messageId);
    strictEqual(c.idempotencyKey, `${this.sagaId}:${c.step}:${c.kind}`, 'idempotency key');
    strictEqual(c.expectsReply, step.kind !== 'notification', 'expectsReply');
    if (c.kind === 'forward') {
      strictEqual(c.compensates, null);
      this.forwardSent.add(c.step);
      // A new attempt (same idempotency key) may take effect: the earlier refusal is history.
      this.refused.delete(c.step);
      if (step.kind === 'pivot') this.pivot = 'inFlight';
      return;
    }
    this.compensationSent = true;
    strictEqual(c.compensates, `${this.sagaId}:${c.step}:forward`, 'compensates');
    strictEqual(step.kind, 'compensatable', `a ${step.kind} step was compensated`);
    ok(this.pivot !== 'succeeded', `compensating ${c.step} after the pivot succeeded`);
    ok(this.forwardSent.has(c.step), `compensating ${c.step}, which was never sent`);
    ok(!this.refused.has(c.step), `compensating ${c.step}, which its participant refused`);
  }

  /** Lifecycle events match the status change; `failed` carries its cause. */
  private checkTransition(
    before: SagaInstance | null,
    next: SagaInstance,
    events: readonly EmitEventEffect[],
  ): void {
    for (const e of events) {
      ok(!this.eventIds.has(e.eventId), `lifecycle event ${e.eventId} emitted twice`);
      this.eventIds.add(e.eventId);
      strictEqual(e.version, next.version);
    }
    const became = (status: string) => next.status === status && before?.status !== status;
    const count = (type: string) => events.filter((e) => e.event === type).length;
    strictEqual(count('saga.started'), before === null ? 1 : 0, 'saga.started');
    strictEqual(count('saga.completed'), became('completed') ? 1 : 0, 'saga.completed');
    strictEqual(count('saga.compensated'), became('compensated') ? 1 : 0, 'saga.compensated');
    strictEqual(count('saga.failed'), next.status === 'failed' ? 1 : 0, 'saga.failed');
    const failed = events.find((e) => e.event === 'saga.failed');
    if (failed) ok((failed.detail as { cause?: unknown }).cause, 'saga.failed without its cause');
    if (became('compensating') || became('compensated'))
      ok(
        this.pivot === 'unsent' || this.pivot === 'failed',
        `compensating while the pivot's outcome is ${this.pivot}`,
      );
  }

  private isPivot(name: string): boolean {
    return this.steps.some((s) => s.name === name && s.kind === 'pivot');
  }
}

const isEmit = (e: { type: string }): e is EmitEventEffect => e.type === 'emitEvent';
