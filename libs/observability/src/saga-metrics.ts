import { CommandKind, JournalEntry } from '@sagaflow/engine';
import { Counter, Histogram, Registry } from 'prom-client';

/** How a step attempt ended, as `sagaflow_step_duration_seconds` labels it. */
export type StepOutcome = 'success' | 'failure' | 'timeout';

/** The statuses `sagaflow_saga_duration_seconds` is observed at. */
export type EndStatus = 'completed' | 'compensated' | 'failed';

/** A command as the relay published it (what the step timer needs from an outbox row). */
export interface PublishedCommand {
  readonly messageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const SAGA_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];
const LIFECYCLE: Readonly<Record<string, 'started' | 'completed' | 'compensated' | 'failed'>> = {
  'saga.started': 'started',
  'saga.completed': 'completed',
  'saga.compensated': 'compensated',
  'saga.failed': 'failed',
};

/**
 * The saga counters and histograms of one process. Everything is recorded after the commit of
 * the transition it counts, and labelled children are cached, so a transition costs a few map
 * lookups. Step durations are timed in memory from the moment the relay of this process
 * published the command to the moment its reply (or timeout) was applied; a reply to a command
 * another orchestrator published is not timed (see docs/operations.md).
 */
export class SagaMetrics {
  private readonly counters: Record<'started' | 'completed' | 'compensated' | 'failed', Counter>;
  private readonly stepDuration: Histogram;
  private readonly sagaDuration: Histogram;
  private readonly children = new Map<string, { inc(): void } | { observe(v: number): void }>();
  /** Command message id → when it was published (ms); see `commandsPublished` for the bound. */
  private sentAt = new Map<string, number>();
  private sentBefore = new Map<string, number>();

  constructor(
    registry: Registry,
    private readonly maxInFlight = 100_000,
  ) {
    const counter = (what: string, help: string) =>
      new Counter({
        name: `sagaflow_sagas_${what}_total`,
        help,
        labelNames: ['saga_type', 'saga_version'],
        registers: [registry],
      });
    this.counters = {
      started: counter('started', 'Sagas started (instances created).'),
      completed: counter('completed', 'Sagas that completed.'),
      compensated: counter('compensated', 'Sagas whose completed steps were all compensated.'),
      failed: counter('failed', 'Sagas that stopped for an operator (status failed).'),
    };
    this.stepDuration = new Histogram({
      name: 'sagaflow_step_duration_seconds',
      help: 'From the command published to its reply (or timeout) applied.',
      labelNames: ['saga_type', 'step', 'kind', 'outcome'],
      buckets: STEP_BUCKETS,
      registers: [registry],
    });
    this.sagaDuration = new Histogram({
      name: 'sagaflow_saga_duration_seconds',
      help: 'From the saga start to its end status.',
      labelNames: ['saga_type', 'status'],
      buckets: SAGA_BUCKETS,
      registers: [registry],
    });
  }

  /** Zeroes the four counters of each definition, so every series exists before its first event. */
  registerDefinitions(definitions: ReadonlyArray<{ name: string; version: number }>): void {
    for (const { name, version } of definitions)
      for (const counter of Object.values(this.counters))
        counter.inc({ saga_type: name, saga_version: String(version) }, 0);
  }

  /** Counts the lifecycle lines (`saga.started`, `saga.completed`…) of one committed transition. */
  transitionCommitted(
    sagaType: string,
    sagaVersion: number,
    journal: readonly JournalEntry[],
  ): void {
    for (const entry of journal) {
      const which = LIFECYCLE[entry.type];
      if (which) this.counterOf(which, sagaType, sagaVersion).inc();
    }
  }

  sagaEnded(sagaType: string, status: EndStatus, seconds: number): void {
    this.histogramOf(this.sagaDuration, `d\0${sagaType}\0${status}`, {
      saga_type: sagaType,
      status,
    }).observe(Math.max(0, seconds));
  }

  /**
   * Starts the step clock of every published command that awaits a reply. Clocks whose reply
   * never comes here (applied by another orchestrator, or never sent) must not pile up: they
   * live in two generations of `maxInFlight / 2`, and the older is dropped whole when the newer
   * fills (O(1), where evicting one entry at a time from a churning Map gets slower and slower).
   */
  commandsPublished(messages: readonly PublishedCommand[]): void {
    const now = performance.now();
    for (const m of messages) {
      if (!m.headers['sagaflow-step'] || !m.headers['sagaflow-reply-topic']) continue;
      if ((m.body as { expectsReply?: unknown } | null)?.expectsReply === false) continue;
      if (this.sentAt.size >= this.maxInFlight / 2) {
        this.sentBefore = this.sentAt;
        this.sentAt = new Map();
      }
      this.sentAt.set(m.messageId, now);
    }
  }

  /** Stops the step clock of `commandMessageId`, if this process started it. */
  stepSettled(
    sagaType: string,
    commandMessageId: string,
    step: string,
    kind: CommandKind,
    outcome: StepOutcome,
  ): void {
    const sent = this.sentAt.get(commandMessageId) ?? this.sentBefore.get(commandMessageId);
    if (sent === undefined) return;
    this.sentAt.delete(commandMessageId);
    this.sentBefore.delete(commandMessageId);
    this.histogramOf(this.stepDuration, `s\0${sagaType}\0${step}\0${kind}\0${outcome}`, {
      saga_type: sagaType,
      step,
      kind,
      outcome,
    }).observe((performance.now() - sent) / 1000);
  }

  private counterOf(which: keyof SagaMetrics['counters'], type: string, version: number) {
    const key = `${which}\0${type}\0${version}`;
    let child = this.children.get(key) as { inc(): void } | undefined;
    if (!child) {
      child = this.counters[which].labels({ saga_type: type, saga_version: String(version) });
      this.children.set(key, child);
    }
    return child;
  }

  private histogramOf(histogram: Histogram, key: string, labels: Record<string, string>) {
    let child = this.children.get(key) as { observe(v: number): void } | undefined;
    if (!child) {
      child = histogram.labels(labels);
      this.children.set(key, child);
    }
    return child;
  }
}
