import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createIdempotentProducer, createKafka, ensureTopics } from '@sagaflow/messaging';
import {
  handle,
  HandlerRegistration,
  ParticipantFailure,
  ParticipantService,
} from '@sagaflow/participant';
import { JournalRepository, SagaInstanceRepository, withConnection } from '@sagaflow/persistence';
import {
  bootstrapStore,
  DefinitionRegistry,
  loadDefinitionModules,
  OutboxRelay,
  ReplyBatchProcessor,
  ReplyConsumer,
  sagaflowTopics,
  StartSaga,
  TimerProcessor,
} from '@sagaflow/runtime';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { assertFailureMatrix, MatrixCase } from '@sagaflow/testing';
import { Kafka, Producer } from 'kafkajs';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import {
  createTestDatabase,
  deleteTopics,
  eventually,
  KAFKA_BROKERS,
  testPool,
  uniqueTopicPrefix,
} from '../support/infrastructure';
import { extractGuide, GENERATED } from './guide-code';

/* eslint-disable @typescript-eslint/no-explicit-any -- the guide's module is loaded at run time */
type Guide = Record<string, any>;

/**
 * docs/dsl.md is the product's front door: its code must compile with the real compiler, its
 * testing examples must hold, and the trip saga it builds must run on the real stack.
 */
describe('docs/dsl.md', () => {
  let guide: Guide;

  beforeAll(() => {
    extractGuide('dsl.md');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- generated at run time from the guide
    guide = require(join(GENERATED, 'dsl.ts')) as Guide;
  });

  it('compiles with the project compiler (strict)', () => {
    const tsc = spawnSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', join(GENERATED, 'tsconfig.json')],
      { encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('is a definitions module both apps can load (SAGAFLOW_DEFINITIONS, §9)', () => {
    const loaded = loadDefinitionModules([join(GENERATED, 'dsl.ts')], [], require);
    expect(loaded).toEqual([guide.tripSaga, guide.requestedTripSaga]);
    expect(() => new DefinitionRegistry(loaded)).not.toThrow();
  });

  it('builds the trip saga with the step graph the guide describes', () => {
    const trip = guide.tripSaga as SagaDefinition;
    expect(trip.compiled.steps.map((s) => `${s.name}:${s.kind}`)).toEqual([
      'quote:compensatable',
      'bookFlight:compensatable',
      'bookHotel:compensatable',
      'addFees:local',
      'charge:pivot',
      'issueTickets:retriable',
      'emailItinerary:notification',
    ]);
    expect(trip.compiled.stages.find((s) => s.name === 'book')).toMatchObject({
      parallel: true,
      steps: [1, 2],
    });
    expect(trip.compiled.deadlineMs).toBe(15 * 60_000);
  });

  it('keeps the promises of its testing section', () => {
    expect(guide.happyTrip()).toBe('completed');
    const cases = guide.tripMatrix() as MatrixCase[];
    expect(cases.filter((c) => c.notApplicable === null)).toHaveLength(5 * 4);
    const tripInput = {
      tripId: 't-1',
      email: 'a@b.c',
      from: 'AMS',
      to: 'LIS',
      nights: 3,
      travellers: 2,
    };
    const replies = {
      quote: () => ({ quoteId: 'q', price: 1 }),
      bookFlight: () => ({ bookingRef: 'f' }),
      bookHotel: () => ({ bookingRef: 'h' }),
      charge: () => ({ chargeId: 'c' }),
      issueTickets: () => ({ ticketNumbers: [] }),
    };
    expect(() => assertFailureMatrix(guide.tripSaga, { input: tripInput, replies })).not.toThrow();
  });

  describe('the trip saga on Kafka and PostgreSQL', () => {
    const prefix = uniqueTopicPrefix();
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let dataSource: DataSource;
    let kafka: Kafka;
    let producer: Producer;
    let pool: Pool;
    let relay: OutboxRelay;
    let consumer: ReplyConsumer;
    let timers: TimerProcessor;
    let start: StartSaga;
    const services: ParticipantService[] = [];

    beforeAll(async () => {
      db = await createTestDatabase();
      const trip = guide.tripSaga as SagaDefinition;
      const registry = new DefinitionRegistry([trip]);
      const topics = { topicPrefix: prefix, replyTopic: `${prefix}sagaflow.replies` };
      const config = {
        databaseUrl: db.url,
        redisUrl: '',
        kafkaBrokers: KAFKA_BROKERS,
        topicPrefix: prefix,
        replyTopic: topics.replyTopic,
        topicPartitions: 2,
        dbPoolSize: 5,
        consumerSessionTimeoutMs: 6000,
        timerPollMs: 50,
        lifecycleTopic: null,
        definitionModules: [],
      };
      dataSource = await bootstrapStore(config, registry, {
        migrate: true,
        applicationName: 'dsl-guide-test',
      });
      kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'dsl-guide-test' });
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, sagaflowTopics(topics, registry), 2);
      await admin.disconnect();
      producer = createIdempotentProducer(kafka);
      await producer.connect();
      relay = new OutboxRelay(dataSource, producer, { idleMs: 10 });
      relay.start();
      consumer = new ReplyConsumer(kafka, new ReplyBatchProcessor(dataSource, registry, topics), {
        groupId: `${prefix}orchestrator`,
        topic: topics.replyTopic,
        sessionTimeoutMs: 6000,
      });
      await consumer.start();
      timers = new TimerProcessor(dataSource, registry, topics, { pollMs: 50 });
      timers.start();
      start = new StartSaga(dataSource, registry, topics);
      pool = testPool(db.url, { max: 8 });
      for (const [topic, handlers] of participants(guide)) {
        const service = new ParticipantService({
          kafka,
          pool,
          schema: `p_${topic.split('.')[0]}`,
          groupId: `${prefix}${topic}`,
          topics: [prefix + topic],
          handlers,
        });
        await service.start();
        services.push(service);
      }
    });

    afterAll(async () => {
      for (const s of services) await s.stop();
      await timers?.stop();
      await consumer?.stop();
      await relay?.stop();
      await producer?.disconnect();
      await pool?.end();
      await dataSource?.destroy();
      await db?.drop();
      await deleteTopics(prefix);
    });

    async function run(tripId: string, overrides: object = {}) {
      const input = {
        tripId,
        email: 'traveller@example.com',
        from: 'AMS',
        to: 'LIS',
        nights: 3,
        travellers: 2,
        ...overrides,
      };
      const { instance } = await start.execute({
        sagaType: 'trip',
        input,
        idempotencyKey: tripId,
        actor: 'test',
      });
      return eventually(`trip ${tripId} to finish`, () =>
        withConnection(dataSource, async (sql) => {
          const stored = await new SagaInstanceRepository().findById(sql, instance.id);
          const status = stored?.instance.status;
          if (status === 'running' || status === 'compensating') return undefined;
          return {
            instance: stored!.instance,
            timeline: await new JournalRepository().timeline(sql, instance.id),
          };
        }),
      );
    }

    it('completes a trip: parallel bookings, local fees, charge, tickets, email', async () => {
      const { instance, timeline } = await run('trip-ok');
      expect(instance.status).toBe('completed');
      expect(instance.data).toMatchObject({
        total: 925,
        flightRef: 'FL-trip-ok',
        tickets: ['T-1', 'T-2'],
      });
      const sent = timeline.filter((t) => t.type === 'command.sent').map((t) => t.step);
      expect(sent).toEqual([
        'quote',
        'bookFlight',
        'bookHotel',
        'charge',
        'issueTickets',
        'emailItinerary',
      ]);
    });

    it('undoes the flight and the quote, latest first, when the hotel refuses', async () => {
      const { instance, timeline } = await run('trip-no-hotel', { to: 'FULLCITY' });
      expect(instance.status).toBe('compensated');
      const undone = timeline
        .filter((t) => t.type === 'command.sent' && t.kind === 'compensate')
        .map((t) => t.step);
      expect(undone).toEqual(['bookFlight', 'quote']);
    });

    it('refuses at the flight service with the guide’s own handler, and compensates', async () => {
      const { instance } = await run('trip-same', { from: 'LIS', to: 'LIS' });
      expect(instance.status).toBe('compensated');
      expect(instance).toMatchObject({ cause: { step: 'bookFlight', type: 'same-airport' } });
    });
  });
});

/** The guide's flight handlers, and plain handlers for the other services. */
function participants(guide: Guide): Array<[string, HandlerRegistration[]]> {
  return [
    ['flights.commands', guide.flightHandlers as HandlerRegistration[]],
    [
      'hotels.commands',
      [
        handle(guide.BookHotel, async ({ tripId, city }: { tripId: string; city: string }) => {
          if (city === 'FULLCITY') throw ParticipantFailure.rejected('no-rooms', `${city} is full`);
          return { bookingRef: `HO-${tripId}` };
        }),
        handle(guide.CancelHotel, async () => ({})),
      ],
    ],
    [
      'payments.commands',
      [
        handle(guide.ChargeCard, async ({ tripId }: { tripId: string }) => ({
          chargeId: `CH-${tripId}`,
        })),
      ],
    ],
    [
      'trips.commands',
      [
        handle(guide.QuoteTrip, async () => ({ quoteId: 'Q-1', price: 900 })),
        handle(guide.CancelQuote, async () => ({})),
        handle(guide.IssueTickets, async () => ({ ticketNumbers: ['T-1', 'T-2'] })),
        handle(guide.EmailItinerary, async () => ({})),
      ],
    ],
  ];
}
