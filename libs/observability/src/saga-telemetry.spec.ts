import { decide, Effect } from '@sagaflow/engine';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { orderSaga } from '@sagaflow/sample-order';
import { Registry } from 'prom-client';
import { createLogger } from './logger';
import { SagaMetrics } from './saga-metrics';
import {
  installTelemetry,
  NO_TELEMETRY,
  processTelemetry,
  SagaTelemetry,
  uninstallTelemetry,
} from './saga-telemetry';
import { setupTracing, Tracing } from './tracing-setup';

const CANARY = '4242999988887777';
const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const input = { orderId: 'o-1', customerId: 'c-1', sku: 's', quantity: 1, amount: 5, card: CANARY };

function started() {
  const decision = decide(orderSaga, null, {
    type: 'started',
    sagaId: '6f1c5a3e-8a61-4c1e-9a55-2a4f1d0c9b10',
    input,
    businessKey: null,
  });
  if (decision.kind !== 'applied') throw new Error('the start was not applied');
  return decision;
}

/** A charge command whose payload holds the card: what a debug line must not show. */
const charge: Effect = {
  type: 'sendCommand',
  messageId: 'm',
  sagaId: 's',
  sagaType: 'order',
  sagaVersion: 1,
  step: 'chargePayment',
  kind: 'forward',
  attempt: 1,
  idempotencyKey: 'k',
  commandType: 'payment.charge',
  topic: 'payment.commands',
  payload: { orderId: 'o-1', amount: 5, card: CANARY },
  compensates: null,
  expectsReply: true,
};

describe('SagaTelemetry', () => {
  let lines: string[];
  let registry: Registry;
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;
  let telemetry: SagaTelemetry;

  beforeEach(() => {
    lines = [];
    registry = new Registry();
    exporter = new InMemorySpanExporter();
    tracing = setupTracing({ serviceName: 't', env: {}, exporter });
    telemetry = new SagaTelemetry({
      logger: createLogger({
        service: 't',
        level: 'debug',
        destination: { write: (l) => lines.push(l) },
      }),
      metrics: new SagaMetrics(registry),
      tracer: tracing.tracer,
    });
  });
  afterEach(() => tracing.shutdown());

  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  it('spans a transition in the trace of its cause, and counts and logs it only once committed', async () => {
    const decision = started();
    const t = telemetry.begin(orderSaga, decision, { event: 'started' }, PARENT);
    expect(t.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(t.traceparent).not.toBe(PARENT);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(lines).toHaveLength(0);

    telemetry.committed([t], new Map());

    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('saga.transition');
    expect(span!.attributes).toMatchObject({
      'saga.id': decision.next.id,
      'saga.type': 'order',
      'saga.event': 'started',
    });
    const startedCount = await registry.getSingleMetric('sagaflow_sagas_started_total')!.get();
    expect(startedCount.values[0]!.value).toBe(1);
    expect(logged()).toContainEqual(
      expect.objectContaining({
        msg: 'saga transition',
        level: 'debug',
        sagaId: decision.next.id,
        sagaType: 'order',
        step: 'reserveCredit',
        attempt: 1,
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      }),
    );
  });

  it('redacts the definition’s sensitive fields in the commands it logs', () => {
    const decision = started();
    const t = telemetry.begin(
      orderSaga,
      { ...decision, effects: [charge] },
      { event: 'started' },
      undefined,
    );
    telemetry.committed([t], new Map());

    expect(lines.join('')).not.toContain(CANARY);
    const line = logged().find((l) => l.msg === 'saga transition')!;
    expect(line.commands).toEqual([
      expect.objectContaining({ payload: { orderId: 'o-1', amount: 5, card: '[redacted]' } }),
    ]);
  });

  it('ends the spans of a rolled-back attempt in error, without counting anything', async () => {
    const t = telemetry.begin(orderSaga, started(), { event: 'started' }, PARENT);
    telemetry.abandoned([t], new Error('optimistic lock conflict'));

    expect(exporter.getFinishedSpans()[0]!.status.message).toBe('optimistic lock conflict');
    const values = (await registry.getSingleMetric('sagaflow_sagas_started_total')!.get()).values;
    expect(values).toEqual([]);
  });

  it('never throws after a commit, even when reporting fails', () => {
    const broken = new SagaTelemetry({
      logger: createLogger({
        service: 't',
        destination: {
          write: () => {
            throw new Error('disk full');
          },
        },
      }),
    });
    const t = broken.begin(orderSaga, started(), { event: 'started' }, undefined);
    expect(() => broken.committed([t], new Map())).not.toThrow();
  });

  it('logs a parked message with the saga fields its headers carry', () => {
    telemetry.parked([
      {
        topic: 'replies',
        partition: 0,
        offset: '7',
        key: null,
        headers: { 'sagaflow-step': 'reserveCredit', 'sagaflow-attempt': '2' },
        body: null,
        reasonCode: 'invalid-reply',
        reason: 'bad',
        sagaId: 's-1',
      },
    ]);
    expect(logged()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'message parked',
        sagaId: 's-1',
        step: 'reserveCredit',
        attempt: 2,
        reasonCode: 'invalid-reply',
      }),
    ]);
  });
});

describe('the process telemetry', () => {
  it('is NO_TELEMETRY until one is installed, and again once it is uninstalled', () => {
    const mine = new SagaTelemetry();
    expect(processTelemetry()).toBe(NO_TELEMETRY);
    installTelemetry(mine);
    expect(processTelemetry()).toBe(mine);
    uninstallTelemetry(new SagaTelemetry()); // someone else's: no effect
    expect(processTelemetry()).toBe(mine);
    uninstallTelemetry(mine);
    expect(processTelemetry()).toBe(NO_TELEMETRY);
  });
});
