import { randomBytes } from 'node:crypto';
import { CommandEnvelope } from '@sagaflow/messaging';
import { setupTracing, SpanTracer, Tracing } from '@sagaflow/observability';
import { CommandProcessor, handle, ProcessedCommandStore } from '@sagaflow/participant';
import { defineCommand } from '@sagaflow/saga-dsl';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { Pool } from 'pg';
import { z } from 'zod';
import { forwardCommand } from '../support/commands';
import { createTestDatabase, testPool } from '../support/infrastructure';

const Reserve = defineCommand({
  type: 'obs.reserve',
  topic: 'obs.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({ ref: z.string() }),
});

const TRACE_ID = randomBytes(16).toString('hex');
const ORCHESTRATOR_SPAN = randomBytes(8).toString('hex');
const HEADER = `00-${TRACE_ID}-${ORCHESTRATOR_SPAN}-01`;

function command(): CommandEnvelope {
  return forwardCommand(
    Reserve,
    { n: 1 },
    { sagaType: 'obs', step: 'reserve', replyTopic: 'obs.replies' },
  );
}

/*
 * The participant kit's side of a trace, on a real PostgreSQL: the handler runs in a
 * `participant.command` span that continues the command's trace, and the reply goes out with
 * that span's header; a service that records no spans passes the command's header on.
 */
describe('participant kit trace continuation', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: Pool;
  const store = new ProcessedCommandStore('obs_participant');
  const seen: string[] = [];
  const handlers = [
    handle(Reserve, async ({ n }, { command }) => {
      seen.push(command.sagaId);
      return { ref: `ref-${n}` };
    }),
  ];

  beforeAll(async () => {
    db = await createTestDatabase('sagaflow_obs_participant');
    pool = testPool(db.url, { max: 2 });
    const client = await pool.connect();
    await store.ensureSchema(client).finally(() => client.release());
  });

  beforeEach(() => {
    seen.length = 0;
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('replies under a child span of the command when the service records spans', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing: Tracing = setupTracing({ serviceName: 'credit', env: {}, exporter });
    try {
      const processor = new CommandProcessor(pool, store, handlers, { tracer: tracing.tracer });
      const { reply, traceparent } = await processor.processTraced(command(), HEADER);

      expect(reply.outcome).toBe('success');
      const [span] = exporter.getFinishedSpans();
      expect(span!.name).toBe('participant.command');
      expect(span!.spanContext().traceId).toBe(TRACE_ID);
      expect(span!.parentSpanContext?.spanId).toBe(ORCHESTRATOR_SPAN);
      expect(span!.attributes).toMatchObject({ 'saga.step': 'reserve', 'saga.attempt': 1 });
      expect(traceparent).toBe(`00-${TRACE_ID}-${span!.spanContext().spanId}-01`);
    } finally {
      await tracing.shutdown();
    }
  });

  it('passes the command’s header on when it records nothing (the default, without an SDK)', async () => {
    const processor = new CommandProcessor(pool, store, handlers);
    expect((await processor.processTraced(command(), HEADER)).traceparent).toBe(HEADER);
    const quiet = new CommandProcessor(pool, store, handlers, {
      tracer: SpanTracer.PROPAGATE_ONLY,
    });
    expect((await quiet.processTraced(command(), undefined)).traceparent).toBeUndefined();
    expect(seen).toHaveLength(2);
  });
});
