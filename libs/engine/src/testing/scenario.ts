import { deepStrictEqual, fail as assertFail, strictEqual } from 'node:assert/strict';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { decide } from '../decide';
import { Decision, IgnoreReason, JournalEntry, RejectReason, SendCommandEffect } from '../decision';
import { SagaEvent } from '../saga-event';
import { CommandKind, SagaInstance, SagaStatus } from '../saga-instance';

/*
 * Test support only (not exported from the engine's index): a given/expect scenario DSL in the
 * spirit of Eventuate's SagaUnitTestSupport. It asserts with `node:assert` rather than Jest's
 * global `expect`, because the production build compiles this file too (it is not a *.spec.ts).
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

/**
 * Feeds events to `decide` one after another, keeping the instance between them. Every instance
 * and event is deep-frozen before the call, and every applied decision must bump the version by 1.
 *
 * @example
 * scenario(orderSaga).start(input)
 *   .expectCommand('reserveCredit')
 *   .reply('reserveCredit', { reservationId: 'cr-1' })
 *   .expectCommand('reserveInventory');
 */
export class Scenario {
  private current: SagaInstance | null = null;
  private latest: Decision | null = null;
  private replies = 0;
  /** Journal lines of every applied decision, in order. */
  readonly journal: JournalEntry[] = [];
  /** Every command sent so far, in order. */
  readonly sent: SendCommandEffect[] = [];

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

  /** The commands the latest decision sent. */
  get commands(): readonly SendCommandEffect[] {
    const d = this.decision;
    return d.kind === 'applied' ? d.effects : [];
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

  timeout(step: string, target: Target = {}): this {
    return this.on({ type: 'timedOut', ...this.target(step, target) });
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
    this.current = decision.next;
    this.journal.push(...decision.journal);
    this.sent.push(...decision.effects);
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

  expectNoCommand(): this {
    deepStrictEqual(this.commands, [], 'expected no command');
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

/** Starts a scenario for one saga instance. */
export function scenario(definition: SagaDefinition, sagaId = 'saga-1'): Scenario {
  return new Scenario(definition, sagaId);
}
