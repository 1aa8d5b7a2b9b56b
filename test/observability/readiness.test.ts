import 'reflect-metadata';
import { Controller, Get, INestApplication, Res } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
} from '@nestjs/terminus';
import {
  checkReadiness,
  KafkaProbe,
  PostgresProbe,
  Probe,
  RedisProbe,
} from '@sagaflow/observability';
import { createDataSource } from '@sagaflow/persistence';
import { Response } from 'express';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { KAFKA_BROKERS, SERVER_URL } from '../support/infrastructure';
import { freePort } from '../support/stack';

@Controller('health')
class ProbeController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** Each test sets the probes it checks. */
  static probes: Record<string, Probe> = {};

  @Get('ready')
  ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    return checkReadiness(this.health, this.indicators, ProbeController.probes, res);
  }
}

/*
 * Readiness on the real dependencies: PostgreSQL, Redis and Kafka up gives 200; a Redis and a
 * Kafka that nothing answers on (a free port) give 503 naming each, with the driver's error,
 * within the probe's bound — the body the apps' `GET /health/ready` answer with.
 */
describe('readiness probes through terminus', () => {
  let app: INestApplication;
  let dataSource: DataSource;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dataSource = createDataSource({ url: `${SERVER_URL}/postgres`, poolSize: 2 });
    await dataSource.initialize();
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [ProbeController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    for (const close of closers) await close();
    await app?.close();
    await dataSource?.destroy();
  });

  function probes(redisUrl: string, brokers: string[], timeoutMs: number): Record<string, Probe> {
    const redis = new RedisProbe(redisUrl, timeoutMs);
    const kafka = new KafkaProbe(brokers, { timeoutMs });
    closers.push(
      () => redis.close(),
      () => kafka.close(),
    );
    return { postgresql: new PostgresProbe(dataSource, 10_000), redis, kafka };
  }

  it('is 200 with every dependency up', async () => {
    // A generous bound: a busy CI machine must not make a live dependency look down here.
    ProbeController.probes = probes(
      process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      KAFKA_BROKERS,
      10_000,
    );
    const res = await request(app.getHttpServer()).get('/health/ready');
    expect({ code: res.status, error: res.body.error }).toEqual({ code: 200, error: {} });
    expect(res.body).toEqual({
      status: 'ok',
      info: expect.any(Object),
      error: {},
      details: {
        postgresql: { status: 'up', latencyMs: expect.any(Number) },
        redis: { status: 'up', latencyMs: expect.any(Number) },
        kafka: { status: 'up', latencyMs: expect.any(Number) },
      },
    });
  });

  it('is 503 naming each dependency that does not answer, with its error', async () => {
    const nobody = await freePort();
    ProbeController.probes = probes(`redis://127.0.0.1:${nobody}`, [`127.0.0.1:${nobody}`], 1000);
    const res = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(res.body).toMatchObject({
      status: 'error',
      info: { postgresql: { status: 'up' } },
      error: {
        redis: { status: 'down', error: expect.any(String) },
        kafka: { status: 'down', error: expect.any(String) },
      },
    });
    expect(Object.keys(res.body.error).sort()).toEqual(['kafka', 'redis']);
  });
});
