import { commandMessageId, Effect, JournalEntry, SagaInstance } from '@sagaflow/engine';
import { ParkedMessage, Sql } from '@sagaflow/persistence';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { Logger, SILENT_LOGGER } from './logger';
import { PublishedCommand, SagaMetrics } from './saga-metrics';
import { commandLines, sagaFields, TransitionCause } from './saga-log';
import { SpanTracer, TraceSpan } from './tracer';

/** One decision the core applied, as the shell is about to write it. */
export interface AppliedTransition {
  readonly definition: SagaDefinition;
  readonly next: SagaInstance;
  readonly effects: readonly Effect[];
  readonly journal: readonly JournalEntry[];
  readonly cause: TransitionCause;
}

/** A transition with its span: write `traceparent` on its commands and timers. */
export interface TracedTransition extends AppliedTransition {
  readonly span: TraceSpan;
  readonly traceparent: string | undefined;
}

export interface SagaTelemetryParts {
  readonly logger?: Logger;
  readonly metrics?: SagaMetrics | null;
  readonly tracer?: SpanTracer;
}

const ENDED = new Set(['completed', 'compensated', 'failed']);

/**
 * What the runtime reports to: a logger, the saga metrics and a tracer, behind the few calls
 * the shell makes around each transaction — `begin` a transition (its span) before writing it,
 * `committed` after the commit (end spans, count, log), `abandoned` after a rollback.
 *
 * @example
 * const t = telemetry.begin(definition, decision, { event: 'replyReceived', step }, traceparent);
 * addTransition(writes, next, effects, journal, 'reply', topics, t.traceparent);
 * // … commit …
 * telemetry.committed([t], ages);
 */
export class SagaTelemetry {
  readonly logger: Logger;
  readonly metrics: SagaMetrics | null;
  readonly tracer: SpanTracer;

  constructor(parts: SagaTelemetryParts = {}) {
    this.logger = parts.logger ?? SILENT_LOGGER;
    this.metrics = parts.metrics ?? null;
    this.tracer = parts.tracer ?? SpanTracer.PROPAGATE_ONLY;
  }

  /** Starts the transition's span, a child of `parent` (the header of what caused it). */
  begin(
    definition: SagaDefinition,
    applied: Pick<AppliedTransition, 'next' | 'effects' | 'journal'>,
    cause: TransitionCause,
    parent: string | undefined,
  ): TracedTransition {
    const { next } = applied;
    const span = this.tracer.start('saga.transition', parent, () => ({
      'saga.id': next.id,
      'saga.type': next.sagaType,
      'saga.version': next.sagaVersion,
      'saga.event': cause.event,
      'saga.status': next.status,
      'saga.instance_version': next.version,
      ...(cause.step ? { 'saga.step': cause.step } : {}),
      ...(cause.kind ? { 'saga.kind': cause.kind } : {}),
      ...(cause.attempt ? { 'saga.attempt': cause.attempt } : {}),
    }));
    const { effects, journal } = applied;
    return { definition, next, effects, journal, cause, span, traceparent: span.traceparent };
  }

  /**
   * Seconds since each ending saga started, read in the caller's transaction: one query, only
   * when metrics are on and a transition of the batch ends a saga.
   */
  async sagaAges(
    sql: Sql,
    transitions: readonly AppliedTransition[],
  ): Promise<Map<string, number>> {
    const ids = this.metrics ? transitions.filter(ends).map((t) => t.next.id) : [];
    if (ids.length === 0) return new Map();
    const rows = await sql.rows<{ id: string; seconds: number }>(
      `SELECT id, extract(epoch FROM clock_timestamp() - created_at)::float8 AS seconds
         FROM saga_instance WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, Number(r.seconds)]));
  }

  /** After the commit: ends the spans, counts and logs each transition. */
  committed(transitions: readonly TracedTransition[], ages: ReadonlyMap<string, number>): void {
    for (const t of transitions)
      this.safely(() => {
        t.span.end();
        this.count(t, ages.get(t.next.id));
        this.log(t);
      });
  }

  /** After a rollback (the transitions were never written): their spans end in error. */
  abandoned(transitions: readonly TracedTransition[], error: unknown): void {
    for (const t of transitions) this.safely(() => t.span.end(error));
  }

  /** Once the relay has sent commands: starts their step clocks. */
  published(messages: readonly PublishedCommand[]): void {
    this.safely(() => this.metrics?.commandsPublished(messages));
  }

  /** After the commit of a park: one warning per message, naming the saga when known. */
  parked(messages: readonly ParkedMessage[]): void {
    for (const m of messages) this.safely(() => this.logParked(m));
  }

  private logParked(m: ParkedMessage): void {
    this.logger.warn(
      {
        sagaId: m.sagaId,
        sagaType: m.headers['sagaflow-saga-type'] ?? null,
        step: m.headers['sagaflow-step'] ?? null,
        attempt: numberOrNull(m.headers['sagaflow-attempt']),
        reasonCode: m.reasonCode,
        reason: m.reason,
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
      },
      'message parked',
    );
  }

  /**
   * Reporting runs after the commit: whatever goes wrong in it must not fail the work (a batch
   * that throws here would be processed again), so it is logged and dropped.
   */
  private safely(report: () => void): void {
    try {
      report();
    } catch (error) {
      try {
        this.logger.error({ err: error }, 'telemetry failed; the work it reports is done');
      } catch {
        // nothing more can be done
      }
    }
  }

  private count(t: TracedTransition, age: number | undefined): void {
    const metrics = this.metrics;
    if (!metrics) return;
    const { next, cause, journal } = t;
    metrics.transitionCommitted(next.sagaType, next.sagaVersion, journal);
    if (cause.reply && cause.step && cause.kind)
      metrics.stepSettled(
        next.sagaType,
        cause.reply.inReplyTo,
        cause.step,
        cause.kind,
        cause.reply.outcome,
      );
    else if (cause.event === 'timedOut' && cause.step && cause.kind && cause.attempt)
      metrics.stepSettled(
        next.sagaType,
        commandMessageId(next.id, cause.step, cause.kind, cause.attempt),
        cause.step,
        cause.kind,
        'timeout',
      );
    if (ends(t) && age !== undefined)
      metrics.sagaEnded(next.sagaType, next.status as 'completed' | 'compensated' | 'failed', age);
  }

  /** Lines are built only when their level is on: most transitions write none. */
  private log(t: TracedTransition): void {
    const { logger } = this;
    const status = t.next.status;
    const end = ends(t) ? endLevel(status) : null;
    const timedOut = t.cause.event === 'timedOut' && logger.isLevelEnabled('info');
    const debug = logger.isLevelEnabled('debug');
    if (!debug && !timedOut && !(end && logger.isLevelEnabled(end))) return;
    const fields = { ...sagaFields(t), traceId: t.span.traceId };
    if (end) logger[end](fields, `saga ${status}`);
    if (timedOut) logger.info(fields, 'step timed out');
    if (debug)
      logger.debug(
        {
          ...fields,
          journal: t.journal.map((j) => j.type),
          commands: commandLines(t.definition, t.effects),
        },
        'saga transition',
      );
  }
}

/** A failed saga waits for an operator (warn); a compensated one is news (info). */
function endLevel(status: string): 'warn' | 'info' | 'debug' {
  return status === 'failed' ? 'warn' : status === 'compensated' ? 'info' : 'debug';
}

/** True when the transition takes the saga into an end status (its journal says so). */
function ends(t: AppliedTransition): boolean {
  return ENDED.has(t.next.status) && t.journal.some((j) => j.type === `saga.${t.next.status}`);
}

function numberOrNull(value: string | undefined): number | null {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) ? n : null;
}

/** Telemetry that logs nothing, counts nothing and only passes trace headers on. */
export const NO_TELEMETRY = new SagaTelemetry();

let installed: SagaTelemetry = NO_TELEMETRY;

/**
 * Makes `telemetry` this process's default: runtime objects built without one report to it.
 * Apps install theirs at startup (one registry per process); `uninstallTelemetry` undoes it.
 */
export function installTelemetry(telemetry: SagaTelemetry): void {
  installed = telemetry;
}

export function uninstallTelemetry(telemetry: SagaTelemetry): void {
  if (installed === telemetry) installed = NO_TELEMETRY;
}

/** The process's telemetry: the installed one, else NO_TELEMETRY. */
export function processTelemetry(): SagaTelemetry {
  return installed;
}
