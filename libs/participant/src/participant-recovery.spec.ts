import { EventEmitter } from 'node:events';
import { ConsumerConfig, EachMessageHandler, Kafka, ProducerConfig, ProducerRecord } from 'kafkajs';
import { InvalidParticipantOptionsError } from './participant-errors';
import { consumerTimings, ParticipantConsumer, ParticipantRecovery } from './participant-consumer';
import { needsNewProducer, ReplyProducer } from './reply-producer';

/*
 * The participant kit's recovery logic against a fake kafkajs: a real broker cannot be made to
 * crash a consumer non-retriably, or to fence a producer, on demand. (The same paths against a
 * real broker that is restarted: test/e2e/participant-resilience.test.ts.)
 */

const noMessages: EachMessageHandler = async () => undefined;

function setup(settings: { maxRetryTimeMs?: number; sessionTimeoutMs?: number } = {}) {
  const kafka = new FakeKafka();
  const reports: Array<{ error: unknown; recovery: ParticipantRecovery }> = [];
  const consumer = new ParticipantConsumer(kafka.asKafka(), {
    groupId: 'credit',
    topics: ['credit.commands'],
    concurrency: 2,
    eachMessage: noMessages,
    onCrash: (error, recovery) => reports.push({ error, recovery }),
    ...settings,
  });
  return { kafka, consumer, reports };
}

const coordinatorLost = () =>
  Object.assign(new Error('The coordinator is not aware of this member'), {
    name: 'KafkaJSNonRetriableError',
  });

describe('ParticipantConsumer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs one kafkajs consumer with the session, heartbeat and retry settings', async () => {
    const { kafka, consumer } = setup({ sessionTimeoutMs: 6000 });
    await consumer.start();
    expect(kafka.consumers).toHaveLength(1);
    expect(kafka.latest.config).toEqual(
      expect.objectContaining({
        groupId: 'credit',
        sessionTimeout: 6000,
        heartbeatInterval: 2000,
        rebalanceTimeout: 10_000,
        retry: expect.objectContaining({ maxRetryTime: 5000, retries: 10 }),
      }),
    );
    expect(kafka.latest.running).toBe(true);
    await consumer.stop();
  });

  it('leaves a retriable crash to kafkajs, and only says so', async () => {
    const { kafka, consumer, reports } = setup();
    await consumer.start();
    const error = retriesExceeded(new Error('connect ECONNREFUSED'));
    kafka.latest.crash(error, true);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(kafka.consumers).toHaveLength(1);
    expect(reports).toEqual([{ error, recovery: 'kafkajs' }]);
    expect(consumer.totals).toEqual({ crashes: 1, rebuilds: 0 });
    await consumer.stop();
  });

  it('rebuilds a consumer kafkajs will not restart, after a short backoff', async () => {
    const { kafka, consumer, reports } = setup();
    await consumer.start();
    const dead = kafka.latest;
    dead.crash(coordinatorLost(), false);
    expect(reports).toEqual([{ error: expect.any(Error), recovery: 'rebuild' }]);
    await jest.advanceTimersByTimeAsync(499);
    expect(kafka.consumers).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(kafka.consumers).toHaveLength(2);
    expect(dead.disconnects).toBe(1);
    expect(kafka.latest).toEqual(expect.objectContaining({ connected: true, running: true }));
    expect(consumer.totals).toEqual({ crashes: 1, rebuilds: 1 });
    await consumer.stop();
  });

  it('keeps trying while the broker is away, backing off 0.5 s doubling up to maxRetryTime', async () => {
    const { kafka, consumer, reports } = setup({ maxRetryTimeMs: 1500 });
    await consumer.start();
    const away = new Error('connect ECONNREFUSED');
    const original = kafka.consumer.bind(kafka);
    let failures = 3;
    kafka.consumer = (config) => {
      const c = original(config);
      if (failures-- > 0) c.failConnect = away;
      return c;
    };
    kafka.latest.crash(coordinatorLost(), false);
    const builtAt: number[] = [];
    for (let t = 0; t < 6000; t += 50) {
      const before = kafka.consumers.length;
      await jest.advanceTimersByTimeAsync(50);
      if (kafka.consumers.length > before) builtAt.push(t + 50);
    }
    // 500 ms, then 1000, then 1500 (capped), then 1500 again: the fourth one connects.
    expect(builtAt).toEqual([500, 1500, 3000, 4500]);
    expect(kafka.latest.running).toBe(true);
    expect(reports.map((r) => r.recovery)).toEqual(['rebuild', 'rebuild', 'rebuild', 'rebuild']);
    expect(reports.slice(1).map((r) => r.error)).toEqual([away, away, away]);
    await consumer.stop();
  });

  it('starts the backoff again once a rebuilt consumer has joined its group', async () => {
    const { kafka, consumer } = setup();
    await consumer.start();
    kafka.latest.crash(coordinatorLost(), false);
    await jest.advanceTimersByTimeAsync(500);
    kafka.latest.joined();
    kafka.latest.crash(coordinatorLost(), false);
    await jest.advanceTimersByTimeAsync(500);
    expect(kafka.consumers).toHaveLength(3);
    await consumer.stop();
  });

  it('stop() is for good: a pending rebuild is cancelled and later crashes are ignored', async () => {
    const { kafka, consumer, reports } = setup();
    await consumer.start();
    const first = kafka.latest;
    first.crash(coordinatorLost(), false);
    await consumer.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(kafka.consumers).toHaveLength(1);
    first.crash(coordinatorLost(), false);
    expect(reports).toHaveLength(1);
    const restartOnFailure = first.config.retry!.restartOnFailure!;
    await expect(restartOnFailure(new Error('x'))).resolves.toBe(false);
  });

  it('tells kafkajs to restart while running, and ignores crashes of a consumer it replaced', async () => {
    const { kafka, consumer, reports } = setup();
    await consumer.start();
    const first = kafka.latest;
    await expect(first.config.retry!.restartOnFailure!(new Error('x'))).resolves.toBe(true);
    first.crash(coordinatorLost(), false);
    await jest.advanceTimersByTimeAsync(500);
    first.crash(coordinatorLost(), false);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(kafka.consumers).toHaveLength(2);
    expect(reports).toHaveLength(1);
    await consumer.stop();
    expect(kafka.latest.disconnects).toBe(1);
  });
});

describe('consumerTimings', () => {
  it("defaults to the orchestrator's 30 s session, a 3 s heartbeat and 5 s between retries", () => {
    expect(consumerTimings({})).toEqual({
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      rebalanceTimeout: 30_000,
      maxRetryTime: 5000,
    });
  });

  it('refuses a heartbeat that is not below the session timeout, with a stable code', () => {
    const attempt = () => consumerTimings({ sessionTimeoutMs: 6000, heartbeatIntervalMs: 6000 });
    expect(attempt).toThrow(InvalidParticipantOptionsError);
    expect(attempt).toThrow(/heartbeatIntervalMs \(6000\) must be lower than sessionTimeoutMs/);
    expect(() => consumerTimings({ sessionTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_PARTICIPANT_OPTIONS' }),
    );
  });
});

describe('ReplyProducer', () => {
  const record = (n: number): ProducerRecord => ({
    topic: 'replies',
    messages: [{ key: 's', value: String(n) }],
  });

  function producerSetup() {
    const kafka = new FakeKafka();
    const renewed: unknown[] = [];
    const producer = new ReplyProducer(kafka.asKafka(), {
      maxRetryTimeMs: 2000,
      onRenew: (error) => renewed.push(error),
    });
    return { kafka, producer, renewed };
  }

  it('is an idempotent producer with a single request in flight and capped retries', () => {
    const { kafka } = producerSetup();
    expect(kafka.producers[0]!.config).toEqual(
      expect.objectContaining({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: expect.objectContaining({ maxRetryTime: 2000 }),
      }),
    );
  });

  it('replaces a producer the broker fenced: the failed send throws, the next goes through a new one', async () => {
    const { kafka, producer, renewed } = producerSetup();
    await producer.connect();
    const fenced = Object.assign(new Error('batch failed'), {
      errors: [protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER')],
    });
    kafka.producers[0]!.failures.push(fenced);
    await expect(producer.send(record(1))).rejects.toBe(fenced);
    await producer.send(record(1));
    expect(kafka.producers).toHaveLength(2);
    expect(kafka.producers[0]!.disconnected).toBe(true);
    expect(kafka.producers[1]!.sent).toEqual([record(1)]);
    expect(renewed).toEqual([fenced]);
    expect(producer.renewals).toBe(1);
  });

  it('replaces a producer after kafkajs gave up retrying, and keeps it after an error it retried', async () => {
    const { kafka, producer } = producerSetup();
    await producer.connect();
    kafka.producers[0]!.failures.push(new Error('This server is not the leader'));
    await expect(producer.send(record(1))).rejects.toThrow('not the leader');
    await producer.send(record(1));
    expect(kafka.producers).toHaveLength(1);
    kafka.producers[0]!.failures.push(retriesExceeded(new Error('connect ECONNREFUSED')));
    await expect(producer.send(record(2))).rejects.toThrow('ECONNREFUSED');
    await producer.send(record(2));
    expect(kafka.producers).toHaveLength(2);
    expect(kafka.producers[1]!.sent).toEqual([record(2)]);
  });

  it('keeps the broken producer marked while a new one cannot connect', async () => {
    const { kafka, producer } = producerSetup();
    await producer.connect();
    kafka.producers[0]!.failures.push(protocolError('UNKNOWN_PRODUCER_ID'));
    await expect(producer.send(record(1))).rejects.toThrow('UNKNOWN_PRODUCER_ID');
    kafka.onProducer = (p) => (p.failConnect = new Error('connect ECONNREFUSED'));
    await expect(producer.send(record(1))).rejects.toThrow('ECONNREFUSED');
    expect(kafka.producers[0]!.disconnected).toBe(false);
    kafka.onProducer = () => undefined;
    await producer.send(record(1));
    expect(kafka.producers).toHaveLength(3);
    expect(kafka.producers[2]!.sent).toEqual([record(1)]);
    expect(kafka.producers[1]!.disconnected).toBe(true);
    expect(producer.renewals).toBe(1);
  });
});

describe('needsNewProducer', () => {
  it('looks for fencing codes and a give-up through causes and nested errors', () => {
    expect(needsNewProducer(protocolError('INVALID_PRODUCER_EPOCH'))).toBe(true);
    expect(needsNewProducer({ cause: { errors: [protocolError('UNKNOWN_PRODUCER_ID')] } })).toBe(
      true,
    );
    expect(needsNewProducer(retriesExceeded(new Error('x')))).toBe(true);
    expect(needsNewProducer(protocolError('NOT_LEADER_FOR_PARTITION'))).toBe(false);
    expect(needsNewProducer('OUT_OF_ORDER_SEQUENCE_NUMBER')).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(needsNewProducer(loop)).toBe(false);
  });
});

// ------------------------------------------------------------------ a fake kafkajs

const EVENTS = { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' } as const;

export class FakeConsumer {
  readonly events = EVENTS;
  readonly emitter = new EventEmitter();
  connected = false;
  running = false;
  disconnects = 0;
  /** Set to make the next `connect()` fail (the broker is still away). */
  failConnect: Error | null = null;

  constructor(readonly config: ConsumerConfig) {}

  on(event: string, listener: (e: { payload: unknown }) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  async connect(): Promise<void> {
    if (this.failConnect) throw this.failConnect;
    this.connected = true;
  }

  async subscribe(): Promise<void> {}

  async run(): Promise<void> {
    this.running = true;
  }

  async disconnect(): Promise<void> {
    this.disconnects++;
    this.connected = false;
    this.running = false;
  }

  /** What kafkajs emits when its runner crashes; `restart` says whether it restarts itself. */
  crash(error: Error, restart: boolean): void {
    this.running = false;
    this.emitter.emit(EVENTS.CRASH, { payload: { error, groupId: this.config.groupId, restart } });
  }

  joined(): void {
    this.emitter.emit(EVENTS.GROUP_JOIN, { payload: {} });
  }
}

export class FakeProducer {
  readonly sent: ProducerRecord[] = [];
  connected = false;
  disconnected = false;
  /** Errors the next sends throw, in order. */
  readonly failures: Error[] = [];
  failConnect: Error | null = null;

  constructor(readonly config: ProducerConfig) {}

  async connect(): Promise<void> {
    if (this.failConnect) throw this.failConnect;
    this.connected = true;
  }

  async send(record: ProducerRecord): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push(record);
  }

  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
}

/** A fake client that keeps every consumer and producer it made, in order. */
export class FakeKafka {
  readonly consumers: FakeConsumer[] = [];
  readonly producers: FakeProducer[] = [];
  /** Applied to each producer as it is made (e.g. to make its connect fail). */
  onProducer: (p: FakeProducer) => void = () => undefined;

  consumer(config: ConsumerConfig): FakeConsumer {
    const consumer = new FakeConsumer(config);
    this.consumers.push(consumer);
    return consumer;
  }

  producer(config: ProducerConfig): FakeProducer {
    const producer = new FakeProducer(config);
    this.onProducer(producer);
    this.producers.push(producer);
    return producer;
  }

  get latest(): FakeConsumer {
    return this.consumers[this.consumers.length - 1]!;
  }

  asKafka(): Kafka {
    return this as unknown as Kafka;
  }
}

/** A kafkajs protocol error as the client throws it (`type` is what the kit looks at). */
export function protocolError(type: string, message = type): Error {
  return Object.assign(new Error(message), {
    name: 'KafkaJSProtocolError',
    type,
    retriable: false,
  });
}

/** What kafkajs throws when it gave up retrying. */
export function retriesExceeded(cause: Error): Error {
  return Object.assign(new Error(cause.message), {
    name: 'KafkaJSNumberOfRetriesExceeded',
    cause,
  });
}
