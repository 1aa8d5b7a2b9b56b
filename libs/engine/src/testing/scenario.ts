import { deepStrictEqual, fail as assertFail, ok, strictEqual } from 'node:assert/strict';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { decide } from '../decide';
import {
  Decision,
  Effect,
  IgnoreReason,
  JournalEntry,
  JournalType,
  RejectReason,
  ScheduleTimerEffect,
  SendCommandEffect,
} from '../decision';
import { OperatorAction, SagaEvent, TimerEvent } from '../saga-event';
import { CommandKind, SagaInstance, SagaStatus } from '../saga-instance';
import { attemptTimerKey, deadlineKey } from '../timers';

/*
 * Test support only (not exported from the engine's index): a given/expect scenario DSL in the
 * spirit of Eventuate's SagaUnitTestSupport, with a virtual clock for timers. It asserts with
 * `node:assert` rather than Jest's global `expect`, because the production build compiles this
 * file too (it is not a *.spec.ts).
 */

/** Freezes a value and everything reachable from it, so a mutation by the code under test throws. */
export function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  seen.add(value);
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value))
    deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return value;
}

/** Which attempt a reply or timeout is about; defaults to the last command sent for the step. */
export interface Target {
  readonly kind?: CommandKind;
  readonly attempt?: number;
}

export interface FailureReply extends Target {
  readonly retryable?: boolean;
  readonly type?: string;
  readonly message?: string;
}

/** A timer the shell would hold: scheduled by an applied decision, neither fired nor cancelled. */
export interface ArmedTimer {
  readonly key: string;
  readonly delayMs: number;
  /** Virtual time (ms since the scenario began) at which it fires. */
  readonly dueAt: number;
  readonly event: TimerEvent;
}

/**
 * Feeds events to `decide` one after another, keeping the instance between them, and plays the
 * shell's part for timers: `scheduleTimer` arms one on a virtual clock, `cancelTimer` disarms it,
 * `elapse(ms)` fires what falls due. Every instance and event is deep-frozen before the call;
 * every applied decision must bump the version by 1 and leave a well-formed instance.
 *
 * @example
 * scenario(orderSaga).start(input)
 *   .expectCommand('reserveCredit')
 *   .expectTimer('saga-1:reserveCredit:forward:1:timeout', 30_000)
 *   .reply('reserveCredit', { reservationId: 'cr-1' })
 *   .expectCommand('reserveInventory');
 */
export class Scenario {
  private current: SagaInstance | null = null;
  private latest: Decision | null = null;
  private replies = 0;
  private clock = 0;
  private readonly armed = new Map<string, ArmedTimer>();
  private readonly everScheduled = new Map<string, ScheduleTimerEffect>();
  /** Journal lines of every applied decision, in order. */
  readonly journal: JournalEntry[] = [];
  /** Every command sent so far, in order. */
  readonly sent: SendCommandEffect[] = [];
  /** Every effect of every applied decision, in order. */
  readonly allEffects: Effect[] = [];

  constructor(
    readonly definition: SagaDefinition,
    readonly sagaId: string,
  ) {}

  /** The stored instance after the events so far. */
  get instance(): SagaInstance {
    return this.current ?? assertFail('the saga has not started');
  }

  /** The decision for the latest event. */
  get decision(): Decision {
    return this.latest ?? assertFail('no event has been decided yet');
  }

  /** Every effect of the latest decision (none unless it was applied). */
  get effects(): readonly Effect[] {
    const d = this.decision;
    return d.kind === 'applied' ? d.effects : [];
  }

  /** The commands the latest decision sent. */
  get commands(): readonly SendCommandEffect[] {
    return this.effects.filter((e): e is SendCommandEffect => e.type === 'sendCommand');
  }

  /** The one command the latest decision sent. */
  get command(): SendCommandEffect {
    strictEqual(
      this.commands.length,
      1,
      `expected exactly one command, got ${JSON.stringify(this.commands)}`,
    );
    return this.commands[0]!;
  }

  /** The timers the latest decision scheduled. */
  get scheduled(): readonly ScheduleTimerEffect[] {
    return this.effects.filter((e): e is ScheduleTimerEffect => e.type === 'scheduleTimer');
  }

  /** The timer keys the latest decision cancelled. */
  get cancelled(): readonly string[] {
    return this.effects.flatMap((e) => (e.type === 'cancelTimer' ? [e.key] : []));
  }

  /** Virtual milliseconds since the scenario began. */
  get now(): number {
    return this.clock;
  }

  /** The key of a step attempt's timeout or retry timer for this saga. */
  timerKey(step: string, kind: CommandKind, attempt: number, what: 'timeout' | 'retry'): string {
    return attemptTimerKey(this.sagaId, step, kind, attempt, what);
  }

  /** The key of this saga's deadline timer. */
  get deadlineKey(): string {
    return deadlineKey(this.sagaId);
  }

  /** Timers armed now, soonest first. */
  pendingTimers(): readonly ArmedTimer[] {
    return [...this.armed.values()].sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : 1));
  }

  /** The types of every journal line so far. */
  journalTypes(): JournalType[] {
    return this.journal.map((j) => j.type);
  }

  start(input: unknown, businessKey: string | null = null): this {
    return this.on({ type: 'started', sagaId: this.sagaId, input, businessKey });
  }

  reply(step: string, data: unknown = {}, target: Target = {}): this {
    const messageId = `reply-${++this.replies}`;
    return this.on({
      type: 'replyReceived',
      messageId,
      ...this.target(step, target),
      outcome: { status: 'success', data },
    });
  }

  fail(step: string, failure: FailureReply = {}): this {
    const { retryable = false, type = 'rejected', message = `${step} failed`, ...target } = failure;
    const messageId = `reply-${++this.replies}`;
    const outcome = { status: 'failure' as const, retryable, type, message };
    return this.on({ type: 'replyReceived', messageId, ...this.target(step, target), outcome });
  }

  /** Decides a `timedOut` event directly (whether or not such a timer is armed). */
  timeout(step: string, target: Target = {}): this {
    return this.on({ type: 'timedOut', ...this.target(step, target) });
  }

  /** Decides a `retryDue` event directly (whether or not such a timer is armed). */
  retryDue(step: string, target: Target = {}): this {
    return this.on({ type: 'retryDue', ...this.target(step, target) });
  }

  /** Decides an operator's action, by `ops`, for a fixed reason. */
  operator(action: OperatorAction, actor = 'ops', reason = 'stuck in testing'): this {
    return this.on({ type: 'operatorAction', action, actor, reason });
  }

  /** Decides a `deadlineReached` event directly. */
  deadline(): this {
    return this.on({ type: 'deadlineReached' });
  }

  /** Fires an armed timer now, whatever its due time, as the shell's timer poller would. */
  fireTimer(key: string): this {
    const timer = this.armed.get(key);
    ok(timer, `no timer "${key}" is armed; armed: ${JSON.stringify([...this.armed.keys()])}`);
    this.armed.delete(key);
    return this.on(timer.event);
  }

  /**
   * Fires a timer that was scheduled at some point but has since fired or been cancelled: the
   * race where a cancellation loses to the poller, or a timer delivered twice.
   */
  fireStaleTimer(key: string): this {
    const timer = this.everScheduled.get(key);
    ok(timer, `no timer "${key}" was ever scheduled`);
    this.armed.delete(key);
    return this.on(timer.event);
  }

  /** Moves the virtual clock on, firing every timer that falls due (also ones armed meanwhile), in due order. */
  elapse(ms: number): this {
    const until = this.clock + ms;
    for (
      let next = this.pendingTimers()[0];
      next && next.dueAt <= until;
      next = this.pendingTimers()[0]
    ) {
      this.clock = next.dueAt;
      this.fireTimer(next.key);
    }
    this.clock = until;
    return this;
  }

  /** Decides one event against the current instance and keeps the result if it was applied. */
  on(event: SagaEvent): this {
    const before = deepFreeze(this.current);
    const decision = decide(this.definition, before, deepFreeze(event));
    this.latest = decision;
    if (decision.kind !== 'applied') return this;
    strictEqual(
      decision.next.version,
      (before?.version ?? 0) + 1,
      'an applied decision must bump the version by exactly 1',
    );
    assertWellFormed(decision.next);
    this.current = decision.next;
    this.journal.push(...decision.journal);
    this.allEffects.push(...decision.effects);
    for (const effect of decision.effects) this.play(effect);
    return this;
  }

  expectStatus(status: SagaStatus): this {
    strictEqual(
      this.instance.status,
      status,
      `expected the saga to be ${status}: ${JSON.stringify(this.instance)}`,
    );
    return this;
  }

  /** The latest decision sent exactly one command: this step, kind and attempt. */
  expectCommand(step: string, kind: CommandKind = 'forward', attempt = 1): this {
    const { step: s, kind: k, attempt: a } = this.command;
    deepStrictEqual({ step: s, kind: k, attempt: a }, { step, kind, attempt });
    return this;
  }

  /** The latest decision sent exactly these commands, in this order: `step` or `step:kind:attempt`. */
  expectCommands(...expected: string[]): this {
    const actual = this.commands.map((c) => `${c.step}:${c.kind}:${c.attempt}`);
    const wanted = expected.map((e) => (e.includes(':') ? e : `${e}:forward:1`));
    deepStrictEqual(actual, wanted);
    return this;
  }

  expectNoCommand(): this {
    deepStrictEqual(this.commands, [], 'expected no command');
    return this;
  }

  /** The latest decision scheduled the timer `key` (after `delayMs`, when given). */
  expectTimer(key: string, delayMs?: number): this {
    const timer = this.scheduled.find((t) => t.key === key);
    ok(timer, `expected timer "${key}" to be scheduled; got ${JSON.stringify(this.scheduled)}`);
    if (delayMs !== undefined) strictEqual(timer.delayMs, delayMs, `delay of timer "${key}"`);
    return this;
  }

  /** The latest decision scheduled no timer. */
  expectNoTimer(): this {
    deepStrictEqual(this.scheduled, [], 'expected no timer to be scheduled');
    return this;
  }

  /** The latest decision cancelled the timer `key`. */
  expectCancelled(key: string): this {
    ok(
      this.cancelled.includes(key),
      `expected "${key}" to be cancelled; got ${JSON.stringify(this.cancelled)}`,
    );
    return this;
  }

  /** Exactly these timers are armed now (keys, in any order). */
  expectArmed(...keys: string[]): this {
    deepStrictEqual([...this.armed.keys()].sort(), [...keys].sort(), 'armed timers');
    return this;
  }

  expectIgnored(reason: IgnoreReason): this {
    return this.expectOutcome('ignored', reason);
  }

  expectRejected(reason: RejectReason): this {
    return this.expectOutcome('rejected', reason);
  }

  private expectOutcome(kind: 'ignored' | 'rejected', reason: string): this {
    const d = this.decision;
    const actual = d.kind === 'applied' ? { kind: d.kind } : { kind: d.kind, reason: d.reason };
    deepStrictEqual(actual, { kind, reason }, `unexpected decision ${JSON.stringify(d)}`);
    return this;
  }

  /** What the shell does with a timer effect; commands are only recorded. */
  private play(effect: Effect): void {
    if (effect.type === 'sendCommand') {
      this.sent.push(effect);
    } else if (effect.type === 'scheduleTimer') {
      this.everScheduled.set(effect.key, effect);
      this.armed.set(effect.key, { ...effect, dueAt: this.clock + effect.delayMs });
    } else if (effect.type === 'cancelTimer') {
      this.armed.delete(effect.key);
    }
  }

  private target(
    step: string,
    target: Target,
  ): { step: string; kind: CommandKind; attempt: number } {
    const last = [...this.sent].reverse().find((c) => c.step === step);
    return {
      step,
      kind: target.kind ?? last?.kind ?? 'forward',
      attempt: target.attempt ?? last?.attempt ?? 1,
    };
  }
}

/** Shape rules the types cannot express; a violation is an engine bug whatever the event was. */
function assertWellFormed(next: SagaInstance): void {
  const indexes = next.completed.map((c) => c.index);
  strictEqual(
    new Set(indexes).size,
    indexes.length,
    `a step completed twice: ${JSON.stringify(next.completed)}`,
  );
  if (next.status !== 'running') return;
  ok(next.pending.length > 0, `a running saga must await something: ${JSON.stringify(next)}`);
  const pending = next.pending.map((p) => p.step);
  strictEqual(
    new Set(pending).size,
    pending.length,
    `a step is pending twice: ${JSON.stringify(next.pending)}`,
  );
  ok(
    pending.every((p) => !indexes.includes(p)),
    `a completed step is still pending: ${JSON.stringify(next)}`,
  );
}

/** Starts a scenario for one saga instance. */
export function scenario(definition: SagaDefinition, sagaId = 'saga-1'): Scenario {
  return new Scenario(definition, sagaId);
}
