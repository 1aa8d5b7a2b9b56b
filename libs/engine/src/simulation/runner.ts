import { deepStrictEqual, fail, ok, strictEqual } from 'node:assert/strict';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { decide } from '../decide';
import { Decision, Effect, ScheduleTimerEffect, SendCommandEffect } from '../decision';
import { OperatorAction, SagaEvent, TimerEvent } from '../saga-event';
import { SagaInstance } from '../saga-instance';
import { buildSaga } from './build';
import { Ledger } from './invariants';
import { KnownBug, ModelOptions, ReferenceModel } from './model';
import { engineView, Expectation, modelView } from './model-state';
import { SimCase } from './moves';
import { label, MoveContext, playMove, replyOutcome } from './play';
import { FAULT_TYPES, flatSteps, withoutFaults } from './shape';
import { SAGA_ID, World } from './world';

export { SAGA_ID } from './world';

const MAX_DRAIN_STEPS = 1000;
const MAX_OPERATOR_RETRIES = 5;

export interface RunOptions {
  readonly model?: ModelOptions;
  /**
   * Stores an instance and loads it back, as the shell does (by default a JSON round trip).
   * Every event is also decided on the reloaded instance (a crash before the commit: the event
   * comes again), and `crash` moves carry on from it.
   */
  readonly reload?: (instance: SagaInstance) => SagaInstance;
}

/** What one case did, for the figures of a run. */
export interface RunReport {
  readonly events: number;
  /** Decisions by outcome: `applied`, `ignored:late`, `rejected:illegal-action`, … */
  readonly decisions: Readonly<Record<string, number>>;
  /** Operator actions by type and outcome: `retry:applied`, `skip:rejected`, … */
  readonly operator: Readonly<Record<string, number>>;
  readonly crashes: number;
  /** Where participants answering on their own left the saga (before any operator retry). */
  readonly settled: string;
  readonly final: string;
  /** Tolerated engine bugs the case ran into. */
  readonly knownBugsHit: readonly KnownBug[];
}

const norm = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null));
const jsonReload = (i: SagaInstance): SagaInstance => norm(i) as SagaInstance;

/**
 * Plays one case: start, the moves, then the drain (participants answer everything the saga
 * awaits, timers fire when nothing is awaited, an operator retries a failed saga). After every
 * event the decision is compared with the reference model and the invariants are checked. A
 * failure throws with the last events played.
 */
export function runCase(c: SimCase, options: RunOptions = {}): RunReport {
  const run = new Run(c, options);
  try {
    return run.play();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const trace = run.trace.slice(-40).join('\n  ');
    throw new Error(`${message}\n--- last events (of ${run.trace.length}) ---\n  ${trace}`, {
      cause: error,
    });
  }
}

class Run {
  readonly trace: string[] = [];
  private definition: SagaDefinition;
  private readonly model: ReferenceModel;
  private readonly ledger: Ledger;
  private readonly world: World;
  private readonly reload: (i: SagaInstance) => SagaInstance;
  private readonly decisions: Record<string, number> = {};
  private readonly operator: Record<string, number> = {};
  private crashes = 0;
  private settled = '';
  /** The author's bugs were fixed (the drain deployed the definition without them). */
  private deployed = false;

  constructor(
    private readonly c: SimCase,
    options: RunOptions,
  ) {
    this.definition = buildSaga(c.shape);
    this.model = new ReferenceModel(c.shape, options.model);
    this.ledger = new Ledger(c.shape, SAGA_ID);
    this.reload = options.reload ?? jsonReload;
    this.world = new World(this.definition, SAGA_ID, (before, event, decision) =>
      this.observe(before, event, decision),
    );
  }

  /** The run as moves see it. */
  private get context(): MoveContext {
    return {
      world: this.world,
      shape: this.c.shape,
      feed: (e, l) => this.feed(e, l),
      fire: this.fire,
      crash: () => this.crash(),
    };
  }

  play(): RunReport {
    this.feed(
      { type: 'started', sagaId: SAGA_ID, input: { order: 7 }, businessKey: null },
      'start (invalid input)',
    );
    const conditional = flatSteps(this.c.shape).filter((s) => s.conditional);
    const skip = conditional.filter((_, i) => (this.c.skipMask >> i) & 1).map((s) => s.name);
    this.feed(
      { type: 'started', sagaId: SAGA_ID, input: { order: 'o-1', skip }, businessKey: null },
      `start skip=[${skip}]`,
    );
    for (const move of this.c.moves) playMove(this.context, move);
    this.drain();
    return {
      events: this.trace.length,
      decisions: this.decisions,
      operator: this.operator,
      crashes: this.crashes,
      settled: this.settled,
      final: this.world.instance!.status + (this.deployed ? ' after a fix' : ''),
      knownBugsHit: [...this.model.knownBugsHit],
    };
  }

  /** Decides one event and checks everything about it. */
  feed(event: SagaEvent, what: string): Decision {
    const line = `[t=${this.world.clock}] ${what}`;
    this.trace.push(`${line} → ?`);
    const expected = this.model.expect(event);
    const decision = this.world.decide(event);
    const outcome = decision.kind === 'applied' ? 'applied' : `${decision.kind}:${decision.reason}`;
    this.trace[this.trace.length - 1] = `${line} → ${describe(decision)}`;
    this.decisions[outcome] = (this.decisions[outcome] ?? 0) + 1;
    if (event.type === 'operatorAction') {
      const key = `${event.action.type}:${decision.kind}`;
      this.operator[key] = (this.operator[key] ?? 0) + 1;
    }
    this.compare(expected, decision);
    this.model.commit(event, expected);
    if (this.world.instance) {
      this.ledger.checkState(this.world.instance, {
        armed: new Set(this.world.armed.keys()),
        knownBugsHit: this.model.knownBugsHit,
      });
      this.checkTimers();
    }
    return decision;
  }

  /** Before the effects: the invariants, and the same decision after a reload (crash before commit). */
  private observe(before: SagaInstance | null, event: SagaEvent, decision: Decision): void {
    this.ledger.observe(before, event, decision, this.model.knownBugsHit);
    if (before === null) return;
    const again = decide(this.definition, this.reload(before), event);
    deepStrictEqual(
      norm(again),
      norm(decision),
      'the same event on the reloaded instance decided differently',
    );
  }

  /** The engine's decision against the model's: kind and reason, then everything it does. */
  private compare(expected: Expectation, decision: Decision): void {
    const want = expected.kind === 'applied' ? 'applied' : `${expected.kind}:${expected.reason}`;
    const got = decision.kind === 'applied' ? 'applied' : `${decision.kind}:${decision.reason}`;
    strictEqual(
      got,
      want,
      `the model expected ${want}, the engine decided ${got}: ${describe(decision)}`,
    );
    if (expected.kind !== 'applied' || decision.kind !== 'applied') return;
    deepStrictEqual(norm(engineView(decision.next)), norm(modelView(expected.next)), 'next state');
    this.compareSends(expected, decision.effects);
    this.compareTimers(expected, decision.effects);
    const lifecycle = decision.effects.flatMap((e) =>
      e.type !== 'emitEvent'
        ? []
        : [
            e.event === 'saga.stepCompleted' || e.event === 'saga.failed'
              ? `${e.event}:${e.step}`
              : e.event,
          ],
    );
    deepStrictEqual(lifecycle.sort(), [...expected.lifecycle].sort(), 'lifecycle events');
  }

  /** The same commands (step, kind, attempt, payload), in any order. */
  private compareSends(
    expected: Extract<Expectation, { kind: 'applied' }>,
    effects: readonly Effect[],
  ): void {
    const sends = effects
      .filter((e): e is SendCommandEffect => e.type === 'sendCommand')
      .map(({ step, kind, attempt, expectsReply, payload }) => ({
        step,
        kind,
        attempt,
        expectsReply,
        payload,
      }));
    deepStrictEqual(norm(sortBy(sends)), norm(sortBy([...expected.sends])), 'commands sent');
  }

  /** The same timer keys, each with a delay in bounds and the event its key stands for. */
  private compareTimers(
    expected: Extract<Expectation, { kind: 'applied' }>,
    effects: readonly Effect[],
  ): void {
    const timers = effects.filter((e): e is ScheduleTimerEffect => e.type === 'scheduleTimer');
    deepStrictEqual(
      timers.map((t) => t.key).sort(),
      expected.timers.map((t) => t.key).sort(),
      'timers scheduled',
    );
    for (const t of timers) {
      const want = expected.timers.find((x) => x.key === t.key)!;
      ok(
        t.delayMs >= want.minDelay && t.delayMs <= want.maxDelay,
        `timer ${t.key}: delay ${t.delayMs} outside [${want.minDelay}, ${want.maxDelay}]`,
      );
      deepStrictEqual(
        norm(t.event),
        norm(this.timerEvent(t.key)),
        `timer ${t.key} delivers another event`,
      );
    }
  }

  /** The event a timer key stands for (docs/architecture.md: `…:<attempt>:timeout|retry`). */
  private timerEvent(key: string): TimerEvent {
    if (key === this.model.deadlineKey) return { type: 'deadlineReached' };
    const [, step, kind, attempt, what] = key.split(':');
    const type = what === 'timeout' ? ('timedOut' as const) : ('retryDue' as const);
    return { type, step: step!, kind: kind as 'forward' | 'compensate', attempt: Number(attempt) };
  }

  /** Every timer the saga relies on is armed; the deadline is armed exactly while it should be. */
  private checkTimers(): void {
    for (const key of this.model.requiredTimers())
      ok(
        this.world.armed.has(key),
        `timer ${key} must be armed; armed: ${[...this.world.armed.keys()]}`,
      );
    strictEqual(
      this.world.armed.has(this.model.deadlineKey),
      this.model.state?.deadlineArmed ?? false,
      'the deadline timer is armed exactly until it fires or the saga stops',
    );
  }

  readonly fire = (event: TimerEvent, key: string): void => {
    this.feed(event, `timer ${key.slice(SAGA_ID.length + 1)}`);
  };

  /** The orchestrator restarts: the instance is what storage gives back. */
  crash(): void {
    const stored = this.world.instance;
    if (!stored) return;
    const reloaded = this.reload(stored);
    deepStrictEqual(
      norm(engineView(reloaded)),
      norm(engineView(stored)),
      'the instance changed through storage',
    );
    this.world.instance = reloaded;
    this.crashes++;
    this.trace.push(
      `[t=${this.world.clock}] crash: reloaded v${reloaded.version} ${reloaded.status}`,
    );
  }

  /**
   * Liveness: participants answer whatever the saga awaits (by the case's drain outcomes), timers
   * fire only when nothing is awaited. The saga must end or fail; then an operator retries and
   * participants succeed, and it must end.
   */
  private drain(): void {
    let answers = 0;
    let retries = 0;
    for (let n = 0; n < MAX_DRAIN_STEPS; n++) {
      const instance = this.world.instance!;
      if (instance.status === 'completed' || instance.status === 'compensated') {
        this.settled ||= instance.status;
        return;
      }
      if (instance.status === 'failed') {
        this.settled ||= 'failed';
        ok(
          retries++ < MAX_OPERATOR_RETRIES,
          'the saga does not recover from failed with operator actions',
        );
        this.recover(instance);
        continue;
      }
      const command = this.awaitedCommand(instance);
      if (command) {
        const kind = this.settled ? 'ok' : this.c.drain[answers++ % this.c.drain.length]!;
        this.world.answered.add(command.messageId);
        const event = this.world.replyTo(
          command,
          replyOutcome(command, kind, kind === 'fail' ? 1 : 0),
        );
        this.feed(event, `drain: reply ${label(event)} ${kind}`);
        continue;
      }
      ok(
        this.world.fireNext(this.fire),
        `the saga is ${instance.status} and waits for nothing: it stopped silently`,
      );
    }
    fail(`the saga did not end within ${MAX_DRAIN_STEPS} drain steps`);
  }

  /**
   * What an operator does with a failed saga: retry it — unless the author's code fails it
   * (FAULT_TYPES) and a fix is not deployed yet: then a failed compensation is marked
   * compensated by hand, a failed forward step compensated if that is legal, and otherwise the
   * fix is deployed (then retried).
   */
  private recover(instance: Extract<SagaInstance, { status: 'failed' }>): void {
    const authorFault =
      !this.deployed &&
      FAULT_TYPES.includes(instance.cause.type) &&
      instance.cause.type !== 'on-reply-threw';
    const action: OperatorAction = !authorFault
      ? { type: 'retry' }
      : instance.resume?.kind === 'compensate'
        ? { type: 'markCompensated', evidence: 'undone by hand' }
        : { type: 'compensate' };
    const d = this.feed(
      { type: 'operatorAction', action, actor: 'sim', reason: 'drain' },
      `drain: operator ${action.type}`,
    );
    if (d.kind === 'applied') return;
    strictEqual(
      action.type,
      'compensate',
      `${action.type} of a failed saga must apply: ${describe(d)}`,
    );
    ok(!this.deployed, `still failed after the fix was deployed: ${instance.cause.type}`);
    this.deployFix();
  }

  /** The author's bugs are fixed: the definition is rebuilt without them, the operator retries next. */
  private deployFix(): void {
    this.deployed = true;
    this.definition = buildSaga(withoutFaults(this.c.shape));
    this.world.definition = this.definition;
    this.model.deployFix();
    this.trace.push(`[t=${this.world.clock}] deploy: the author's bugs are fixed`);
  }

  /** The command of the first attempt the saga awaits a reply to. */
  private awaitedCommand(instance: SagaInstance): SendCommandEffect | undefined {
    const want =
      instance.status === 'running'
        ? instance.pending
            .filter((p) => p.waiting === 'reply')
            .map((p) => ({ ...p, kind: 'forward' }))
        : instance.status === 'compensating' && instance.waiting === 'reply'
          ? [{ step: instance.currentStep, attempt: instance.attempt, kind: 'compensate' }]
          : [];
    for (const w of want) {
      const step = this.definition.steps[w.step]!.compiled.name;
      const command = this.world.sent.find(
        (c) => c.step === step && c.kind === w.kind && c.attempt === w.attempt,
      );
      if (command) return command;
    }
    return undefined;
  }
}

function describe(d: Decision): string {
  if (d.kind !== 'applied') return `${d.kind} ${d.reason}`;
  const sends = d.effects
    .filter((e): e is SendCommandEffect => e.type === 'sendCommand')
    .map((c) => `${c.step}:${c.kind}:${c.attempt}`);
  return `applied v${d.next.version} ${d.next.status}${sends.length ? ` sent [${sends.join(', ')}]` : ''}`;
}

function sortBy<T extends { step: string; kind: string; attempt: number }>(list: T[]): T[] {
  return list.sort((a, b) => label(a).localeCompare(label(b)));
}
