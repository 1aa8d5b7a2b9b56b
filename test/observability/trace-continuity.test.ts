import { randomBytes, randomUUID } from 'node:crypto';
import {
  createLogger,
  installTelemetry,
  SagaMetrics,
  SagaTelemetry,
  setupTracing,
  Tracing,
  uninstallTelemetry,
} from '@sagaflow/observability';
import { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace';
import { defineSaga } from '@sagaflow/saga-dsl';
import { Registry } from 'prom-client';
import { HarnessInput, ok, rawReply, SagaHarness, undo, work } from '../support/saga-harness';

/** Step `a` times out after 300 ms and is retried at once (attempt 2). */
const timesOut = defineSaga({ name: 'traced-timeout', version: 1, input: HarnessInput })
  .step('a', {
    ...work,
    compensate: undo,
    timeout: '300ms',
    retry: { maxAttempts: 2, initialDelay: 0 },
  })
  .pivot('b', work)
  .build();

const TRACE_ID = randomBytes(16).toString('hex');
const CLIENT_SPAN = randomBytes(8).toString('hex');

const spanIdOf = (traceparent: unknown) => String(traceparent).slice(36, 52);

/*
 * The shell on a real PostgreSQL with tracing on (an in-memory exporter): a transition joins the
 * trace of what caused it — the start's header, the reply's header, and for a timer the header
 * of the transition that armed it, kept with the timer row.
 */
describe('trace continuity through the shell', () => {
  let harness: SagaHarness;
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;
  let telemetry: SagaTelemetry;
  const lines: string[] = [];

  beforeAll(async () => {
    harness = await SagaHarness.create([timesOut], { prefix: 'sagaflow_obs_trace' });
    exporter = new InMemorySpanExporter();
    tracing = setupTracing({ serviceName: 'sagaflow-test', env: {}, exporter });
    telemetry = new SagaTelemetry({
      tracer: tracing.tracer,
      metrics: new SagaMetrics(new Registry()),
      logger: createLogger({
        service: 't',
        level: 'debug',
        destination: { write: (l) => lines.push(l) },
      }),
    });
    // The harness builds its StartSaga, ReplyBatchProcessor and TimerProcessor without one:
    // they report to the process's telemetry.
    installTelemetry(telemetry);
  });

  afterAll(async () => {
    uninstallTelemetry(telemetry);
    await tracing.shutdown();
    await harness?.close();
  });

  async function outboxHeaders(sagaId: string): Promise<Array<Record<string, string>>> {
    const rows: Array<{ headers: Record<string, string> }> = await harness.dataSource.query(
      `SELECT headers FROM outbox_message WHERE message_key = $1 ORDER BY seq`,
      [sagaId],
    );
    return rows.map((r) => r.headers);
  }

  const transition = (event: string): ReadableSpan =>
    exporter
      .getFinishedSpans()
      .find((s) => s.name === 'saga.transition' && s.attributes['saga.event'] === event)!;

  it('starts, times out, retries and applies the reply in one trace', async () => {
    const { instance } = await harness.startSaga.execute({
      sagaType: 'traced-timeout',
      input: { n: 1 },
      idempotencyKey: randomUUID(),
      actor: 'test',
      traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`,
    });
    const start = transition('started');
    expect(start.spanContext().traceId).toBe(TRACE_ID);
    expect(start.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    const [first] = await outboxHeaders(instance.id);
    expect(spanIdOf(first!.traceparent)).toBe(start.spanContext().spanId);
    // The timeout timer keeps the start's header...
    const [timer] = await harness.storedTimers(instance.id);
    expect(timer!.event).toMatchObject({ type: 'timedOut', traceparent: first!.traceparent });

    await new Promise((r) => setTimeout(r, 400));
    expect(await harness.fire()).toBeGreaterThan(0);
    // ...so the timeout joins the trace below the start, and the retry carries it on.
    const timeout = transition('timedOut');
    expect(timeout.spanContext().traceId).toBe(TRACE_ID);
    expect(timeout.parentSpanContext?.spanId).toBe(start.spanContext().spanId);
    expect(timeout.attributes).toMatchObject({ 'saga.step': 'a', 'saga.attempt': 1 });
    const retry = (await outboxHeaders(instance.id))[1]!;
    expect(retry).toMatchObject({ 'sagaflow-attempt': '2' });
    expect(spanIdOf(retry.traceparent)).toBe(timeout.spanContext().spanId);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({
        msg: 'step timed out',
        sagaId: instance.id,
        step: 'a',
        attempt: 1,
      }),
    );

    // A reply carrying the retry's header (as the participant kit sends it) continues below it.
    const reply = {
      ...rawReply(instance.id, 'a', 2, ok()),
      headers: { traceparent: retry.traceparent },
    };
    await harness.feed(reply);
    const applied = transition('replyReceived');
    expect(applied.spanContext().traceId).toBe(TRACE_ID);
    expect(applied.parentSpanContext?.spanId).toBe(timeout.spanContext().spanId);
    // The stored event of an armed timer is what the core expects once the header is taken off.
    const timers = await harness.storedTimers(instance.id);
    for (const t of timers)
      expect(t.event).toMatchObject({ traceparent: expect.stringContaining(TRACE_ID) });
  });
});
