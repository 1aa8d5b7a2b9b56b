import { OnApplicationShutdown } from '@nestjs/common';
import { SagaflowConfig } from '@sagaflow/config';
import { PostgresProbe, Probe, RedisProbe } from '@sagaflow/observability';
import { DataSource } from 'typeorm';

/**
 * What the admin API needs: PostgreSQL (every read and every start) and Redis (it announces
 * the timers a start arms; without Redis they still fire, from the orchestrators' sweep). It
 * talks to no Kafka broker: a start only writes the outbox.
 */
export class AdminReadinessProbes implements OnApplicationShutdown {
  private readonly redis: RedisProbe;
  readonly all: Readonly<Record<'postgresql' | 'redis', Probe>>;

  constructor(dataSource: DataSource, config: SagaflowConfig) {
    this.redis = new RedisProbe(config.redisUrl);
    this.all = { postgresql: new PostgresProbe(dataSource), redis: this.redis };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.close();
  }
}
