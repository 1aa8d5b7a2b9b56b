import { loadConfig, SagaflowConfig } from '@sagaflow/config';
import { createKafka } from '@sagaflow/messaging';
import {
  bootstrapStore,
  BullmqTimerWakeups,
  DefinitionRegistry,
  StartSaga,
} from '@sagaflow/runtime';
import { DataSource } from 'typeorm';
import { Run, RunTarget } from '../load/run-target';
import { BENCH_SAGA, benchSagaFromEnv } from '../saga/bench-saga';
import { CompletionFeed } from './completion-feed';

/**
 * Starts bench sagas the way the admin API does — `StartSaga` in this process (one transaction:
 * instance, journal, first command, timers; then the BullMQ wake-up) — and waits for each to end.
 */
export class SagaflowTarget {
  private constructor(
    private readonly startSaga: StartSaga,
    private readonly feed: CompletionFeed,
    private readonly dataSource: DataSource,
    private readonly wakeups: BullmqTimerWakeups,
  ) {}

  /** `env` is the bench stack's environment (database, brokers, prefix); the process's own is not changed. */
  static async connect(env: Record<string, string>): Promise<SagaflowTarget> {
    const config: SagaflowConfig = loadConfig({ ...process.env, ...env });
    const registry = new DefinitionRegistry([benchSagaFromEnv({ ...process.env, ...env })]);
    const dataSource = await bootstrapStore(config, registry, {
      migrate: false,
      applicationName: 'sagaflow-bench-driver',
    });
    const wakeups = new BullmqTimerWakeups({
      redisUrl: config.redisUrl,
      queueName: `${config.topicPrefix}sagaflow-timers`,
      onError: (e) => process.stderr.write(`bench driver: timer wake-ups: ${String(e)}\n`),
    });
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: 'sagaflow-bench-driver' });
    const feed = new CompletionFeed(
      kafka,
      config.lifecycleTopic!,
      `${config.topicPrefix}bench-driver`,
    );
    await feed.start();
    const startSaga = new StartSaga(dataSource, registry, config, wakeups);
    return new SagaflowTarget(startSaga, feed, dataSource, wakeups);
  }

  /** The sagas of one phase; `label` keeps their idempotency keys apart from other phases'. */
  phase(label: string): RunTarget {
    return { run: (seq) => this.run(`${label}-${seq}`) };
  }

  private async run(key: string): Promise<Run> {
    const startedAt = Date.now();
    const { instance } = await this.startSaga.execute({
      sagaType: BENCH_SAGA,
      input: { orderId: key, amount: 10 },
      idempotencyKey: key,
      actor: 'bench',
    });
    const finishedAt = await this.feed.finished(instance.id);
    return { id: instance.id, startedAt, finishedAt };
  }

  /** Start → terminal state as committed (`saga_instance.updated_at`), for runs already finished. */
  async committedLatencies(runs: readonly Run[]): Promise<number[]> {
    const startedAt = new Map(runs.map((r) => [r.id, r.startedAt]));
    const out: number[] = [];
    for (let i = 0; i < runs.length; i += 10_000) {
      const ids = runs.slice(i, i + 10_000).map((r) => r.id);
      const rows: Array<{ id: string; t: number }> = await this.dataSource.query(
        `SELECT id, extract(epoch FROM updated_at) * 1000 AS t FROM saga_instance WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      for (const row of rows) out.push(Number(row.t) - startedAt.get(row.id)!);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.feed.stop();
    await this.wakeups.obliterate().catch(() => undefined);
    await this.wakeups.close();
    await this.dataSource.destroy();
  }
}
