import { OnApplicationShutdown } from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import { KafkaProbe, PostgresProbe, Probe, RedisProbe } from '@sagaflow/observability';
import { DataSource } from 'typeorm';

/**
 * What the orchestrator needs to work: PostgreSQL (every state change), Kafka (commands and
 * replies) and Redis (prompt timer wake-ups; without it timers still fire, late by up to one
 * sweep period, so a Redis outage makes the orchestrator not ready but loses nothing).
 */
export class ReadinessProbes implements OnApplicationShutdown {
  private readonly redis: RedisProbe;
  private readonly kafka: KafkaProbe;
  readonly all: Readonly<Record<'postgresql' | 'redis' | 'kafka', Probe>>;

  constructor(dataSource: DataSource, config: SagaflowConfig) {
    this.redis = new RedisProbe(config.redisUrl);
    this.kafka = new KafkaProbe(config.kafkaBrokers);
    this.all = { postgresql: new PostgresProbe(dataSource), redis: this.redis, kafka: this.kafka };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.redis.close(), this.kafka.close()]);
  }
}
