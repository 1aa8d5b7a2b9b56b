import {
  CommandKind,
  EmitEventEffect,
  decide,
  Decision,
  JournalEntry,
  ReplyOutcome,
  SagaEvent,
  SagaInstance,
  SendCommandEffect,
  TimerEvent,
} from '@sagaflow/engine';
import { SagaDefinition } from '@sagaflow/saga-dsl';

interface ArmedTimer {
  readonly key: string;
  readonly dueAt: number;
  readonly event: TimerEvent;
}

/**
 * The real engine core in memory, with a virtual clock: no broker, no database, no waiting.
 * Commands sent are recorded; replies are fed by the test; timers fire when the clock passes them.
 *
 * @example
 * const sim = new SagaSimulation(orderSaga).start(input);
 * sim.replySuccess('reserveCredit', { reservationId: 'r-1' });
 * sim.advance('30s'); // fires reserveInventory's timeout
 * expect(sim.status).toBe('running');
 */
export class SagaSimulation {
  /** Virtual time in ms since the start. */
  now = 0;
  instance: SagaInstance | null = null;
  readonly sent: SendCommandEffect[] = [];
  readonly journal: JournalEntry[] = [];
  readonly ignored: Array<{ event: SagaEvent; reason: string }> = [];
  /** Lifecycle events the saga published (started, step completed, completed, …). */
  readonly events: EmitEventEffect[] = [];
  private timers = new Map<string, ArmedTimer>();

  constructor(
    readonly definition: SagaDefinition,
    readonly sagaId = '00000000-0000-4000-8000-000000000001',
  ) {}

  get status(): SagaInstance['status'] | 'not-started' {
    return this.instance?.status ?? 'not-started';
  }

  start(input: unknown, businessKey: string | null = null): this {
    return this.apply({ type: 'started', sagaId: this.sagaId, input, businessKey });
  }

  /** Feeds a reply to the latest attempt sent for the step (or the attempt given). */
  reply(
    step: string,
    outcome: ReplyOutcome,
    options: { kind?: CommandKind; attempt?: number } = {},
  ): this {
    const kind = options.kind ?? 'forward';
    const attempt = options.attempt ?? this.lastSent(step, kind)?.attempt ?? 1;
    return this.apply({
      type: 'replyReceived',
      messageId: `reply:${this.sagaId}:${step}:${kind}:${attempt}:${this.sent.length}`,
      step,
      kind,
      attempt,
      outcome,
    });
  }

  replySuccess(
    step: string,
    data: unknown = {},
    options: { kind?: CommandKind; attempt?: number } = {},
  ): this {
    return this.reply(step, { status: 'success', data }, options);
  }

  replyFailure(
    step: string,
    failure: { type?: string; retryable?: boolean; message?: string } = {},
    options: { kind?: CommandKind; attempt?: number } = {},
  ): this {
    const outcome = {
      status: 'failure' as const,
      type: failure.type ?? 'simulated-failure',
      retryable: failure.retryable ?? false,
      message: failure.message ?? 'failed on purpose',
    };
    return this.reply(step, outcome, options);
  }

  /** Moves the virtual clock, firing every timer that comes due, in due order. */
  advance(ms: number): this {
    const until = this.now + ms;
    for (let next = this.nextTimer(); next && next.dueAt <= until; next = this.nextTimer()) {
      this.now = next.dueAt;
      this.timers.delete(next.key);
      this.apply(next.event);
    }
    this.now = until;
    return this;
  }

  /** Moves the clock to the next armed timer and fires it; false when none is armed. */
  fireNextTimer(): boolean {
    const next = this.nextTimer();
    if (!next) return false;
    this.advance(next.dueAt - this.now);
    return true;
  }

  armedTimers(): ArmedTimer[] {
    return [...this.timers.values()].sort((a, b) => a.dueAt - b.dueAt);
  }

  lastSent(step: string, kind: CommandKind = 'forward'): SendCommandEffect | undefined {
    return [...this.sent].reverse().find((c) => c.step === step && c.kind === kind);
  }

  /** Commands still awaited: what a participant would be working on now. */
  awaited(): Array<{ step: string; kind: CommandKind; attempt: number }> {
    const i = this.instance;
    const steps = this.definition.compiled.steps;
    if (i?.status === 'running')
      return i.pending
        .filter((p) => p.waiting === 'reply')
        .map((p) => ({ step: steps[p.step]!.name, kind: 'forward' as const, attempt: p.attempt }));
    if (i?.status === 'compensating' && i.waiting === 'reply')
      return [{ step: steps[i.currentStep]!.name, kind: 'compensate', attempt: i.attempt }];
    return [];
  }

  private apply(event: SagaEvent): this {
    const decision: Decision = decide(this.definition, this.instance, event);
    if (decision.kind === 'rejected')
      throw new Error(
        `rejected ${event.type}: ${decision.message} ${JSON.stringify(decision.errors)}`,
      );
    if (decision.kind === 'ignored') {
      this.ignored.push({ event, reason: decision.reason });
      return this;
    }
    this.instance = decision.next;
    this.journal.push(...decision.journal);
    for (const effect of decision.effects) {
      if (effect.type === 'sendCommand') this.sent.push(effect);
      else if (effect.type === 'scheduleTimer') {
        if (!this.timers.has(effect.key))
          this.timers.set(effect.key, {
            key: effect.key,
            dueAt: this.now + effect.delayMs,
            event: effect.event,
          });
      } else if (effect.type === 'cancelTimer') this.timers.delete(effect.key);
      else this.events.push(effect);
    }
    return this;
  }

  private nextTimer(): ArmedTimer | undefined {
    return this.armedTimers()[0];
  }
}
