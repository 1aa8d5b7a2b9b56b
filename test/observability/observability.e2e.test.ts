import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createKafka } from '@sagaflow/messaging';
import { DefinitionRegistry } from '@sagaflow/runtime';
import { sampleDefinitions } from '@sagaflow/sample-order';
import { Consumer } from 'kafkajs';
import request from 'supertest';
import { eventually, KAFKA_BROKERS } from '../support/infrastructure';
import { ProcessStack } from '../support/stack';

/** A span as an OTLP/HTTP JSON export carries it (ids in hex), with its service. */
interface ExportedSpan {
  readonly service: string;
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly attributes: Record<string, string | number>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };
interface OtlpExport {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{
      spans?: Array<
        Omit<ExportedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] }
      >;
    }>;
  }>;
}

/** An OTLP/HTTP traces endpoint of the test's own: keeps every span the apps export. */
class OtlpCollector {
  readonly spans: ExportedSpan[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpCollector> {
    let collector: OtlpCollector | null = null;
    const server = createServer((req, res) => {
      void body(req).then((raw) => {
        if (req.url === '/v1/traces') collector!.add(JSON.parse(raw.toString()) as OtlpExport);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector = new OtlpCollector(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  inTrace(traceId: string): ExportedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private add(batch: OtlpExport): void {
    for (const rs of batch.resourceSpans ?? []) {
      const service = String(attributes(rs.resource?.attributes)['service.name']);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          this.spans.push({
            service,
            name: s.name,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            attributes: attributes(s.attributes),
          });
    }
  }
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, string | number> {
  return Object.fromEntries(
    (list ?? []).map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue !== undefined ? Number(value.intValue) : value.doubleValue!),
    ]),
  );
}

/** A message as it was on the wire: topic, key and the `traceparent` header. */
interface Tapped {
  readonly topic: string;
  readonly key: string;
  readonly traceparent: string | undefined;
}

/** A card number no log line may ever show: the order saga marks `card` sensitive. */
const CANARY = '4242718281828459';
const TRACE_ID = randomBytes(16).toString('hex');
const CLIENT_SPAN = randomBytes(8).toString('hex');
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const STEPS = ['reserveCredit', 'reserveInventory', 'chargePayment', 'confirmOrder'];

/**
 * Observability through the three apps as processes: a trace from `POST /sagas` to every command
 * and reply and back into the orchestrator's transition spans (exported over OTLP/HTTP to a
 * collector this test serves), the metrics after a saga completed, logs free of sensitive values,
 * and readiness. Needs AdminApiModule to import ObservabilityModule (spans, metrics and health of
 * the admin API).
 */
describe('observability end to end', () => {
  let collector: OtlpCollector;
  let stack: ProcessStack;
  let tap: Consumer;
  const tapped: Tapped[] = [];
  let sagaId: string;

  beforeAll(async () => {
    collector = await OtlpCollector.start();
    stack = await ProcessStack.create({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'debug',
    });
    tap = await tapCommandsAndReplies(stack.env.SAGAFLOW_TOPIC_PREFIX!, tapped);
    const started = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .set('traceparent', TRACEPARENT)
      .send({
        sagaType: 'order',
        idempotencyKey: `obs-${randomUUID()}`,
        input: {
          orderId: 'o-obs',
          customerId: 'c-obs',
          sku: 'SKU-1',
          quantity: 1,
          amount: 5,
          card: CANARY,
        },
      })
      .expect(201);
    sagaId = started.body.id;
    await eventually(`saga ${sagaId} to complete`, async () => {
      const res = await request(stack.apiUrl).get(`/sagas/${sagaId}`).set(stack.auth).expect(200);
      return res.body.status === 'completed' ? true : undefined;
    });
  });

  afterAll(async () => {
    await tap?.disconnect();
    await stack?.stop();
    await collector?.close();
  });

  it('carries the trace of POST /sagas on every command and reply, to the participants and back', async () => {
    const mine = await eventually('the saga’s commands and replies on the wire', async () => {
      const found = tapped.filter((m) => m.key === sagaId);
      return found.length >= 2 * STEPS.length + 1 ? found : undefined;
    });
    // Four commands with replies and the notification.
    expect(mine.map((m) => m.traceparent?.slice(3, 35))).toEqual(mine.map(() => TRACE_ID));
    expect(mine.filter((m) => m.topic.endsWith('sagaflow.replies'))).toHaveLength(STEPS.length);
  });

  it('spans every transition in that trace: the start in the admin API, each reply in the orchestrator', async () => {
    const spans = await eventually('the transition spans', async () => {
      const found = collector.inTrace(TRACE_ID).filter((s) => s.name === 'saga.transition');
      return found.length >= STEPS.length + 1 ? found : undefined;
    });
    const start = spans.find((s) => s.attributes['saga.event'] === 'started')!;
    expect(start).toMatchObject({ service: 'sagaflow-admin-api', parentSpanId: CLIENT_SPAN });
    let parent = start.spanId;
    for (const step of STEPS) {
      const span = spans.find(
        (s) => s.attributes['saga.event'] === 'replyReceived' && s.attributes['saga.step'] === step,
      );
      expect(span).toMatchObject({
        service: 'sagaflow-orchestrator',
        attributes: expect.objectContaining({
          'saga.id': sagaId,
          'saga.type': 'order',
          'saga.kind': 'forward',
          'saga.attempt': 1,
        }),
      });
      // The reply carries the header of the command it answers: the transition that sent it.
      expect(span!.parentSpanId).toBe(parent);
      parent = span!.spanId;
    }
    // Each command's header is the span of the transition that sent it.
    const sentBy = new Set(spans.map((s) => s.spanId));
    const commands = tapped.filter((m) => m.key === sagaId && !m.topic.endsWith('replies'));
    for (const c of commands) expect(sentBy.has(c.traceparent!.slice(36, 52))).toBe(true);
  });

  it('exposes every metric, with its labels, on /metrics', async () => {
    const orchestrator = (await request(stack.orchestratorUrl()).get('/metrics').expect(200)).text;
    const admin = (await request(stack.apiUrl).get('/metrics').expect(200)).text;
    const order = 'saga_type="order",saga_version="1"';
    expect(admin).toMatch(new RegExp(`^sagaflow_sagas_started_total\\{${order}\\} 1$`, 'm'));
    expect(orchestrator).toMatch(
      new RegExp(`^sagaflow_sagas_completed_total\\{${order}\\} 1$`, 'm'),
    );
    for (const name of ['started', 'compensated', 'failed'])
      expect(orchestrator).toMatch(
        new RegExp(`^sagaflow_sagas_${name}_total\\{${order}\\} \\d+$`, 'm'),
      );
    for (const step of STEPS)
      expect(orchestrator).toMatch(
        new RegExp(
          `^sagaflow_step_duration_seconds_count\\{saga_type="order",step="${step}",kind="forward",outcome="success"\\} 1$`,
          'm',
        ),
      );
    expect(orchestrator).toMatch(
      /^sagaflow_saga_duration_seconds_count\{saga_type="order",status="completed"\} 1$/m,
    );
    expect(orchestrator).toMatch(/^sagaflow_outbox_backlog \d+$/m);
    expect(orchestrator).toMatch(/^sagaflow_outbox_oldest_age_seconds [\d.e+-]+$/m);
    expect(orchestrator).toMatch(
      new RegExp(
        `^sagaflow_reply_consumer_lag\\{topic="${stack.env.SAGAFLOW_TOPIC_PREFIX}sagaflow.replies",partition="0"\\} 0$`,
        'm',
      ),
    );
    expect(orchestrator).toMatch(/^sagaflow_timers_pending \d+$/m);
    expect(orchestrator).toMatch(/^sagaflow_timers_overdue 0$/m);
    expect(orchestrator).toMatch(/^sagaflow_parked_messages\{reason_code="malformed"\} 0$/m);
    for (const text of [orchestrator, admin]) {
      for (const state of ['total', 'idle', 'waiting'])
        expect(text).toMatch(
          new RegExp(`^sagaflow_db_pool_connections\\{state="${state}"\\} \\d+$`, 'm'),
        );
      expect(text).toMatch(/^process_cpu_user_seconds_total /m); // default process metrics
    }
  });

  it('never logs a sensitive value; every line about a saga names it, its step and attempt', () => {
    for (const [label, app] of stack.apps)
      expect({ label, leaks: app.output.includes(CANARY) }).toEqual({ label, leaks: false });
    const orchestrator = jsonLines(stack.app('orchestrator').output);
    // The charge command's debug line is there, its card redacted.
    const charge = orchestrator.find((l) =>
      (l.commands as Array<{ step: string }> | undefined)?.some((c) => c.step === 'chargePayment'),
    );
    expect(charge).toMatchObject({
      sagaId,
      commands: [
        expect.objectContaining({ payload: expect.objectContaining({ card: '[redacted]' }) }),
      ],
    });
    const aboutSagas = [...orchestrator, ...jsonLines(stack.app('admin-api').output)].filter(
      (l) => l.sagaId,
    );
    expect(aboutSagas.length).toBeGreaterThan(STEPS.length);
    for (const line of aboutSagas)
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['sagaType', 'step', 'attempt']));
  });

  it('reports each dependency on /health/ready, and the process on /health/live', async () => {
    const orchestrator = await request(stack.orchestratorUrl()).get('/health/ready').expect(200);
    expect(orchestrator.body).toMatchObject({
      status: 'ok',
      details: {
        postgresql: { status: 'up' },
        redis: { status: 'up' },
        kafka: { status: 'up' },
      },
    });
    const admin = await request(stack.apiUrl).get('/health/ready').expect(200);
    expect(admin.body).toMatchObject({
      status: 'ok',
      details: { postgresql: { status: 'up' }, redis: { status: 'up' } },
    });
    for (const url of [stack.orchestratorUrl(), stack.apiUrl])
      expect((await request(url).get('/health/live').expect(200)).body.status).toBe('ok');
  });
});

/** Reads every command and reply topic from the beginning, keeping topic, key and traceparent. */
async function tapCommandsAndReplies(prefix: string, into: Tapped[]): Promise<Consumer> {
  const registry = new DefinitionRegistry(sampleDefinitions);
  const topics = [...registry.commandTopics(), 'sagaflow.replies'].map((t) => `${prefix}${t}`);
  const consumer = createKafka({ brokers: KAFKA_BROKERS, clientId: 'obs-tap' }).consumer({
    groupId: `${prefix}obs-tap`,
    maxWaitTimeInMs: 50,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      into.push({
        topic,
        key: message.key?.toString() ?? '',
        traceparent: message.headers?.traceparent?.toString(),
      });
    },
  });
  return consumer;
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
