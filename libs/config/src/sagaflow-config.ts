/** Everything a Sagaflow process reads from its environment, resolved once at startup. */
export interface SagaflowConfig {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** Prepended to every topic name, so deployments (and test runs) share a cluster safely. */
  readonly topicPrefix: string;
  /** The topic replies come back on (prefixed). */
  readonly replyTopic: string;
  /** Saga lifecycle events (started, step completed, completed, compensated, failed), prefixed; null turns them off. */
  readonly lifecycleTopic: string | null;
  /** Partitions for topics the orchestrator creates. */
  readonly topicPartitions: number;
  readonly dbPoolSize: number;
  /**
   * How long the broker waits for a silent consumer before handing its partitions to another
   * process. Lower means faster failover after a crash, higher tolerates longer pauses.
   */
  readonly consumerSessionTimeoutMs: number;
  /**
   * The timer sweep period: how often PostgreSQL is searched for due timers. BullMQ wakes timers
   * on time; the sweep bounds how late one can be when Redis lost its wake-up.
   */
  readonly timerPollMs: number;
  /**
   * Built modules exporting the saga definitions to run (`SAGAFLOW_DEFINITIONS`, comma-separated);
   * empty runs the sample order saga.
   */
  readonly definitionModules: readonly string[];
}

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sagaflow';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:19092';

/**
 * Reads the configuration; throws with a message naming the variable when a value is unusable.
 *
 * @example
 * const config = loadConfig(); // DATABASE_URL, REDIS_URL, KAFKA_BROKERS, SAGAFLOW_TOPIC_PREFIX …
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SagaflowConfig {
  const topicPrefix = env.SAGAFLOW_TOPIC_PREFIX ?? '';
  if (!/^[a-zA-Z0-9._-]*$/.test(topicPrefix)) {
    throw new Error(
      `SAGAFLOW_TOPIC_PREFIX="${topicPrefix}" is invalid: use letters, digits, ".", "_" or "-".`,
    );
  }
  return {
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl: env.REDIS_URL || DEFAULT_REDIS_URL,
    kafkaBrokers: (env.KAFKA_BROKERS || DEFAULT_KAFKA_BROKERS)
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    topicPrefix,
    replyTopic: `${topicPrefix}sagaflow.replies`,
    lifecycleTopic:
      env.SAGAFLOW_LIFECYCLE_EVENTS === 'off' ? null : `${topicPrefix}sagaflow.lifecycle`,
    topicPartitions: positiveInt(env, 'SAGAFLOW_TOPIC_PARTITIONS', 4),
    dbPoolSize: positiveInt(env, 'SAGAFLOW_DB_POOL_SIZE', 10),
    consumerSessionTimeoutMs: positiveInt(env, 'SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS', 30_000),
    timerPollMs: positiveInt(env, 'SAGAFLOW_TIMER_POLL_MS', 1000),
    definitionModules: (env.SAGAFLOW_DEFINITIONS ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name}="${raw}" is invalid: use a positive integer.`);
  return value;
}
