import { ok } from 'node:assert/strict';
import { SimData } from './build';
import { MCause, MDone, MKind, MMember, MPhase, MResume, MState } from './model-state';
import { Draft, exact, KnownBug, ModelOptions, replaceMember, retryDelay } from './model-support';
import { defaultRetry, flatSteps, SagaShape, StepShape, withoutFaults } from './shape';

/*
 * The transitions the reference model is built from — entering stages, forward steps
 * succeeding or failing, compensation — as docs/architecture.md and docs/dsl.md describe them,
 * without calling the engine. model.ts maps events and operator actions onto them.
 */
export abstract class ModelCore {
  protected steps: readonly StepShape[];
  protected readonly stageSteps: readonly (readonly number[])[];
  protected readonly pivot: number | null;
  protected readonly tolerate: ReadonlySet<KnownBug>;
  protected sagaId = '';
  /** The saga as the model expects it; null before the start. */
  state: MState | null = null;
  /** Tolerated bugs this run ran into: their direct consequences are not reported again. */
  readonly knownBugsHit = new Set<KnownBug>();

  protected constructor(
    public shape: SagaShape,
    options: ModelOptions = {},
  ) {
    this.steps = flatSteps(shape);
    let next = 0;
    this.stageSteps = shape.stages.map((s) => s.steps.map(() => next++));
    const pivot = this.steps.findIndex((s) => s.kind === 'pivot');
    this.pivot = pivot === -1 ? null : pivot;
    this.tolerate = new Set(options.tolerate ?? []);
  }

  /** The author's bugs are fixed and deployed: the same steps, none faulty. */
  deployFix(): void {
    this.shape = withoutFaults(this.shape);
    this.steps = flatSteps(this.shape);
  }

  // Keys and names, in the formats docs/architecture.md gives.

  protected timerKey(
    step: string,
    kind: MKind,
    attempt: number,
    what: 'timeout' | 'retry',
  ): string {
    return `${this.sagaId}:${step}:${kind}:${attempt}:${what}`;
  }

  get deadlineKey(): string {
    return `${this.sagaId}:deadline`;
  }

  protected indexOf(name: string): number {
    return this.steps.findIndex((s) => s.name === name);
  }

  /** The pivot completed with a known outcome: nothing may be compensated any more. */
  protected pastPivot(done: readonly MDone[]): boolean {
    return this.pivot !== null && done.some((d) => d.step === this.pivot && !d.unknown);
  }

  // Forward.

  /**
   * Starts stage `from` and every stage after it with nothing to await; completes at the end.
   * A failure on the way (an author's function threw) means none of it happened: the stages'
   * messages and data changes are dropped, and the saga compensates, or past the pivot fails
   * with a retry entering again at `from`, the first stage this decision entered.
   */
  protected enter(d: Draft, from: number): void {
    const before = {
      data: d.data,
      sends: d.sends.length,
      timers: d.timers.length,
      lifecycle: d.lifecycle.length,
    };
    const failure = this.enterFrom(d, from);
    if (!failure) return;
    d.data = before.data;
    d.sends.length = before.sends;
    d.timers.length = before.timers;
    d.lifecycle.length = before.lifecycle;
    if (this.pastPivot(d.done)) {
      let stage = from;
      const failing = this.stageSteps.findIndex((steps) => steps.includes(failure.index));
      if (failing !== from && this.tolerate.has('entering-failure-resumes-too-late')) {
        this.knownBugsHit.add('entering-failure-resumes-too-late');
        stage = failing;
      }
      const resume = { kind: 'forward' as const, stage, members: [], stageFailure: null };
      this.fail(d, failure.index, failure.cause, resume);
    } else this.compensate(d, failure.cause);
  }

  protected enterFrom(d: Draft, from: number): { index: number; cause: MCause } | null {
    const fault = (index: number, type: string) => ({
      index,
      cause: { step: this.steps[index]!.name, kind: 'forward' as const, type },
    });
    for (let stage = from; stage < this.stageSteps.length; stage++) {
      const members: MMember[] = [];
      for (const index of this.stageSteps[stage]!) {
        const step = this.steps[index]!;
        if (step.conditional && step.fault === 'condition') return fault(index, 'condition-threw');
        if (step.conditional && d.data.skip.includes(step.name)) continue;
        if (step.kind === 'local') {
          if (step.fault === 'local') return fault(index, 'local-step-threw');
          d.data = { ...d.data, [step.name]: 'local' };
          d.lifecycle.push(`saga.stepCompleted:${step.name}`);
          continue;
        }
        if (this.payloadFault(index, 'forward', d.data)) return fault(index, 'invalid-command');
        this.send(d, index, 'forward', 1);
        if (step.kind !== 'notification')
          members.push({ step: index, attempt: 1, waiting: 'reply', afterTimeout: false });
      }
      if (members.length > 0) {
        d.phase = { status: 'running', stage, members, stageFailure: null };
        return null;
      }
    }
    d.phase = { status: 'completed' };
    d.lifecycle.push('saga.completed');
    d.deadlineArmed = false;
    return null;
  }

  /** The author's payload function for this command throws or builds an invalid payload. */
  protected payloadFault(index: number, kind: MKind, data: SimData): boolean {
    const fault = this.steps[index]!.fault;
    if (kind === 'compensate')
      return fault === 'compensationPayload' || fault === 'invalidCompensation';
    if (fault === 'payloadAfterSibling') {
      const stage = this.stageSteps.find((steps) => steps.includes(index))!;
      return stage.some((i) => i !== index && this.steps[i]!.name in data);
    }
    return fault === 'payload' || fault === 'invalidPayload';
  }

  /** Sends the next attempt of a pending member; a payload that cannot be built fails the step for good. */
  protected sendForward(d: Draft, member: MMember): void {
    replaceMember(d, { ...member, waiting: 'reply', afterTimeout: false });
    if (!this.payloadFault(member.step, 'forward', d.data)) {
      this.send(d, member.step, 'forward', member.attempt);
      return;
    }
    const cause = {
      step: this.steps[member.step]!.name,
      kind: 'forward' as const,
      type: 'invalid-command',
    };
    this.finalFailure(d, member.step, cause);
  }

  /**
   * Sends several members in order, each only while the stage still awaits it: when one fails
   * for good the stage stops, and members that were waiting for a retry are abandoned, not sent.
   */
  protected sendMembers(d: Draft, members: readonly MMember[]): void {
    for (const m of members) {
      const p = d.phase;
      if (p.status !== 'running') continue;
      if (p.members.some((x) => x.step === m.step)) this.sendForward(d, m);
      else if (this.tolerate.has('resume-sends-abandoned-member')) {
        this.knownBugsHit.add('resume-sends-abandoned-member');
        this.sendForward(d, m);
      }
    }
  }

  protected forwardSucceeded(d: Draft, member: MMember, log: { id?: string }): void {
    const p = d.running();
    const step = this.steps[member.step]!;
    d.done.push({ step: member.step, unknown: false, log });
    // The participant applied it even if onReply throws: it counts as completed either way.
    if (step.fault === 'onReply' && log.id?.startsWith('bad'))
      return this.finalFailure(d, member.step, {
        step: step.name,
        kind: 'forward',
        type: 'on-reply-threw',
      });
    d.data = { ...d.data, [step.name]: log.id };
    const rest = p.members.filter((m) => m.step !== member.step);
    if (step.kind === 'pivot') return this.enter(d, p.stage + 1);
    if (rest.length > 0) {
      d.phase = { ...p, members: rest };
      return;
    }
    if (p.stageFailure) return this.compensate(d, p.stageFailure);
    this.enter(d, p.stage + 1);
  }

  /** An attempt failed or timed out: another attempt by the policy, unless the stage failed. */
  protected forwardFailed(
    d: Draft,
    member: MMember,
    cause: MCause,
    facts: { retryable: boolean; unknown: boolean; allowRetry: boolean },
  ): void {
    const p = d.running();
    const step = this.steps[member.step]!;
    const delay =
      p.stageFailure || !facts.allowRetry
        ? null
        : retryDelay(step.retry ?? defaultRetry(step.kind), facts.retryable, cause.type, member);
    if (delay) {
      const attempt = member.attempt + 1;
      const immediate = delay.maxDelay === 0;
      const next = {
        step: member.step,
        attempt,
        waiting: 'retry' as const,
        afterTimeout: facts.unknown,
      };
      if (immediate) return this.sendForward(d, next);
      replaceMember(d, next);
      d.timers.push({ key: this.timerKey(step.name, 'forward', attempt, 'retry'), ...delay });
      return;
    }
    // A pivot whose outcome is unknown is never guessed at: an operator decides.
    if (facts.unknown && step.kind === 'pivot')
      return this.fail(d, member.step, cause, this.resumeOf(p));
    if (facts.unknown) d.done.push({ step: member.step, unknown: true, log: undefined });
    this.finalFailure(d, member.step, cause);
  }

  /** Failed for good: past the pivot an operator decides; before it, compensate once settled. */
  protected finalFailure(d: Draft, index: number, cause: MCause): void {
    const p = d.running();
    if (this.steps[index]!.kind === 'retriable' || this.pastPivot(d.done))
      return this.fail(d, index, cause, this.resumeOf(p));
    const settled = this.abandonRetries(
      d,
      p.members.filter((m) => m.step !== index),
    );
    if (settled.pivotUnknown !== null)
      return this.fail(d, settled.pivotUnknown, cause, this.resumeOf(p));
    const stageFailure = p.stageFailure ?? cause;
    if (settled.members.length > 0) {
      d.phase = { ...p, members: settled.members, stageFailure };
      return;
    }
    this.compensate(d, stageFailure);
  }

  /** No new attempts: members waiting for a retry drop out; after a timeout, as unknown. */
  protected abandonRetries(
    d: Draft,
    members: readonly MMember[],
  ): { members: MMember[]; pivotUnknown: number | null } {
    let pivotUnknown: number | null = null;
    for (const m of members.filter((x) => x.waiting === 'retry' && x.afterTimeout)) {
      d.done.push({ step: m.step, unknown: true, log: undefined });
      if (m.step === this.pivot) pivotUnknown = m.step;
    }
    return { members: members.filter((m) => m.waiting === 'reply'), pivotUnknown };
  }

  protected resumeOf(p: Extract<MPhase, { status: 'running' }>): MResume {
    return { kind: 'forward', stage: p.stage, members: p.members, stageFailure: p.stageFailure };
  }

  protected fail(d: Draft, failedStep: number, cause: MCause, resume: MResume): void {
    d.phase = { status: 'failed', failedStep, cause, resume };
    d.lifecycle.push(`saga.failed:${cause.step}`);
    d.deadlineArmed = false;
  }

  // Compensation.

  /** Everything compensatable that took effect (or may have), latest first. */
  protected compensate(d: Draft, cause: MCause): void {
    ok(!this.pastPivot(d.done), 'model: compensating past the pivot');
    // Only a skipped pivot lets steps after it run without it completing; the invariants flag
    // the compensation (invariants.ts), unless the known bug is tolerated.
    const afterPivot = d.done.some((x) => !x.unknown && this.steps[x.step]!.kind === 'retriable');
    if (afterPivot && this.tolerate.has('skipped-pivot-allows-compensation'))
      this.knownBugsHit.add('skipped-pivot-allows-compensation');
    const queue = [...d.done]
      .reverse()
      .filter((x) => this.steps[x.step]!.kind === 'compensatable')
      .map((x) => x.step);
    this.compensateFrom(d, queue, cause);
  }

  protected compensateFrom(d: Draft, queue: readonly number[], cause: MCause): void {
    const [next, ...rest] = queue;
    if (next === undefined) {
      d.phase = { status: 'compensated', cause };
      d.lifecycle.push('saga.compensated');
      d.deadlineArmed = false;
      return;
    }
    d.phase = {
      status: 'compensating',
      step: next,
      attempt: 1,
      waiting: 'reply',
      queue: rest,
      cause,
    };
    this.sendCompensation(d);
  }

  /** Sends the current compensation attempt; a payload that cannot be built fails the saga. */
  protected sendCompensation(d: Draft): void {
    const p = d.compensating();
    if (!this.payloadFault(p.step, 'compensate', d.data)) {
      this.send(d, p.step, 'compensate', p.attempt);
      return;
    }
    const cause = {
      step: this.steps[p.step]!.name,
      kind: 'compensate' as const,
      type: 'invalid-command',
    };
    this.fail(d, p.step, cause, {
      kind: 'compensate',
      step: p.step,
      attempt: p.attempt,
      queue: p.queue,
    });
  }

  protected compensationFailed(d: Draft, cause: MCause, retryable: boolean): void {
    const p = d.compensating();
    const step = this.steps[p.step]!;
    const policy = step.compensation?.retry ?? defaultRetry('compensation');
    const delay = retryDelay(policy, retryable, cause.type, p);
    if (!delay) {
      const resume = {
        kind: 'compensate' as const,
        step: p.step,
        attempt: p.attempt,
        queue: p.queue,
      };
      return this.fail(d, p.step, cause, resume);
    }
    const attempt = p.attempt + 1;
    if (delay.maxDelay === 0) {
      d.phase = { ...p, attempt, waiting: 'reply' };
      this.sendCompensation(d);
      return;
    }
    d.phase = { ...p, attempt, waiting: 'retry' };
    d.timers.push({ key: this.timerKey(step.name, 'compensate', attempt, 'retry'), ...delay });
  }

  /** One command, with its timeout when the step (or its compensation) has one. */
  protected send(d: Draft, index: number, kind: MKind, attempt: number): void {
    ok(!this.payloadFault(index, kind, d.data), 'model: a faulty payload is never sent');
    const step = this.steps[index]!;
    const expectsReply = step.kind !== 'notification';
    const log = d.done.find((x) => x.step === index)?.log as { id?: string } | undefined;
    const payload =
      kind === 'compensate'
        ? { step: step.name, id: log?.id }
        : step.kind === 'notification'
          ? { step: step.name }
          : { step: step.name, order: d.data.order };
    d.sends.push({ step: step.name, kind, attempt, expectsReply, payload });
    const timeout = kind === 'forward' ? step.timeoutMs : (step.compensation?.timeoutMs ?? null);
    if (expectsReply && timeout !== null)
      d.timers.push(exact(this.timerKey(step.name, kind, attempt, 'timeout'), timeout));
  }
}
