import { SagaDefinition } from '@sagaflow/saga-dsl';
import { decide } from '../decide';
import { Decision, SendCommandEffect } from '../decision';
import { ReplyOutcome, SagaEvent, TimerEvent } from '../saga-event';
import { SagaInstance } from '../saga-instance';
import { deepFreeze } from '../testing/scenario';

/** The one saga each case runs. */
export const SAGA_ID = 'sim-1';

/** A timer the shell holds: scheduled by an applied decision, not fired or cancelled yet. */
export interface ArmedTimer {
  readonly key: string;
  readonly dueAt: number;
  readonly event: TimerEvent;
}

/** Called with every decided event, before its effects are carried out. */
export type Observer = (before: SagaInstance | null, event: SagaEvent, decision: Decision) => void;

/**
 * The shell's part, in memory: the stored instance, the timer table on a virtual clock, the
 * commands sent (the participants' inbox). Applied decisions are stored and their effects
 * carried out; anything else changes nothing.
 */
export class World {
  clock = 0;
  instance: SagaInstance | null = null;
  readonly armed = new Map<string, ArmedTimer>();
  /** Every timer ever scheduled, by key: what a stale firing delivers. */
  readonly scheduled = new Map<string, TimerEvent>();
  readonly sent: SendCommandEffect[] = [];
  /** Message ids of commands a participant has answered. */
  readonly answered = new Set<string>();
  readonly delivered: Extract<SagaEvent, { type: 'replyReceived' }>[] = [];
  private replies = 0;

  constructor(
    /** Replaced when a fix is deployed (same graph and version). */
    public definition: SagaDefinition,
    readonly sagaId: string,
    private readonly observe: Observer,
  ) {}

  /** Decides one event on the stored instance; stores the outcome if it was applied. */
  decide(event: SagaEvent): Decision {
    const before = this.instance === null ? null : deepFreeze(this.instance);
    const decision = decide(this.definition, before, deepFreeze(event));
    this.observe(before, event, decision);
    if (decision.kind !== 'applied') return decision;
    this.instance = decision.next;
    for (const effect of decision.effects) {
      if (effect.type === 'sendCommand') this.sent.push(effect);
      if (effect.type === 'scheduleTimer') {
        this.scheduled.set(effect.key, effect.event);
        this.armed.set(effect.key, {
          key: effect.key,
          dueAt: this.clock + effect.delayMs,
          event: effect.event,
        });
      }
      if (effect.type === 'cancelTimer') this.armed.delete(effect.key);
    }
    return decision;
  }

  /** Commands that expect a reply a participant has not given yet (awaited or not). */
  unanswered(): SendCommandEffect[] {
    return this.sent.filter((c) => c.expectsReply && !this.answered.has(c.messageId));
  }

  /** Armed timers, soonest first (ties by key, as a deterministic poller would). */
  timers(): ArmedTimer[] {
    return [...this.armed.values()].sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : 1));
  }

  /** Moves the clock to the soonest timer (never back) and fires it; false when none is armed. */
  fireNext(fire: (event: TimerEvent, key: string) => void): boolean {
    const next = this.timers()[0];
    if (!next) return false;
    this.clock = Math.max(this.clock, next.dueAt);
    this.armed.delete(next.key);
    fire(next.event, next.key);
    return true;
  }

  /** Moves the clock on by `ms`, firing what falls due (also timers armed meanwhile), in order. */
  elapse(ms: number, fire: (event: TimerEvent, key: string) => void): void {
    const until = this.clock + ms;
    for (let next = this.timers()[0]; next && next.dueAt <= until; next = this.timers()[0])
      this.fireNext(fire);
    this.clock = until;
  }

  /** A reply event to `command`, with a fresh message id. */
  replyTo(
    command: Pick<SendCommandEffect, 'step' | 'kind' | 'attempt'>,
    outcome: ReplyOutcome,
  ): Extract<SagaEvent, { type: 'replyReceived' }> {
    return {
      type: 'replyReceived',
      messageId: `reply-${++this.replies}`,
      step: command.step,
      kind: command.kind,
      attempt: command.attempt,
      outcome,
    };
  }
}
