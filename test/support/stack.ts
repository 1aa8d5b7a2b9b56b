import { createDataSource, withTransaction } from '@sagaflow/persistence';
import { Client } from 'pg';
import request from 'supertest';
import { ApiKeyRepository } from '../../apps/admin-api/src/auth/api-key.repository';
import { Role } from '../../apps/admin-api/src/auth/principal';
import { AppName, AppProcess, READY } from './processes';
import {
  createTestDatabase,
  deleteTopics,
  eventually,
  KAFKA_BROKERS,
  freePort,
  uniqueTopicPrefix,
} from './infrastructure';

export { freePort };

/**
 * The whole system as separate processes, on a fresh database and topic prefix:
 * orchestrator (which migrates), sample participants and admin API.
 */
export class ProcessStack {
  /**
   * The latest process started under each label. The label is the app's name unless `start`
   * was given another (e.g. `orchestrator-2` for a second orchestrator).
   */
  readonly apps = new Map<string, AppProcess>();
  /** Every process ever started, so `stop()` also ends one whose label was reused. */
  private readonly started: AppProcess[] = [];
  private readonly envs = new Map<string, Record<string, string>>();
  /** Headers that authenticate as an operator on the stack's admin API (set once migrated). */
  auth: Record<string, string> = {};

  private constructor(
    readonly env: Record<string, string>,
    readonly apiUrl: string,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async create(extraEnv: Record<string, string> = {}): Promise<ProcessStack> {
    const db = await createTestDatabase();
    const prefix = uniqueTopicPrefix();
    const apiPort = await freePort();
    const env = {
      DATABASE_URL: db.url,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      SAGAFLOW_TOPIC_PREFIX: prefix,
      SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      // Tests start sagas in bursts; the limits themselves are tested in test/admin.
      SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE: '1000000',
      SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
      ORCHESTRATOR_PORT: String(await freePort()),
      ADMIN_API_PORT: String(apiPort),
      ...extraEnv,
    };
    const stack = new ProcessStack(env, `http://127.0.0.1:${apiPort}`, async () => {
      await db.drop();
      await deleteTopics(prefix);
    });
    try {
      await stack.start('orchestrator');
      stack.auth = { Authorization: `Bearer ${await createApiKey(db.url, 'operator')}` };
      await Promise.all([stack.start('sample-participants'), stack.start('admin-api')]);
    } catch (error) {
      await stack.stop().catch(() => undefined);
      throw error;
    }
    return stack;
  }

  /**
   * Starts an app with the stack's environment plus `env`, under `label` (default: its name;
   * a process already under that label is replaced in `apps`, not stopped).
   */
  async start(
    name: AppName,
    env: Record<string, string> = {},
    label: string = name,
  ): Promise<AppProcess> {
    const merged = { ...this.env, ...env };
    const app = AppProcess.start(name, merged);
    this.apps.set(label, app);
    this.envs.set(label, merged);
    this.started.push(app);
    await app.waitFor(READY[name]);
    return app;
  }

  /** One more orchestrator next to the others: same store and topics, a health port of its own. */
  async startOrchestrator(label: string, env: Record<string, string> = {}): Promise<AppProcess> {
    return this.start(
      'orchestrator',
      { ORCHESTRATOR_PORT: String(await freePort()), ...env },
      label,
    );
  }

  app(label: string): AppProcess {
    return this.apps.get(label)!;
  }

  /** The health listener of the orchestrator started under `label`, e.g. `http://127.0.0.1:40123`. */
  orchestratorUrl(label = 'orchestrator'): string {
    const env = this.envs.get(label);
    if (!env) throw new Error(`no process was started under "${label}"`);
    return `http://${env.ORCHESTRATOR_HOST ?? '127.0.0.1'}:${env.ORCHESTRATOR_PORT}`;
  }

  async stop(): Promise<void> {
    await Promise.all(this.started.map((a) => a.stop()));
    await this.cleanup();
  }
}

/** A new API key with `role` in the (migrated) database at `url`; returns the raw key. */
export async function createApiKey(
  url: string,
  role: Role,
  name = `test-${role}`,
): Promise<string> {
  const dataSource = createDataSource({ url, poolSize: 1, applicationName: 'sagaflow-test-keys' });
  await dataSource.initialize();
  try {
    return await withTransaction(dataSource, async (sql) => {
      const created = await new ApiKeyRepository().create(sql, { name, role, createdBy: 'test' });
      return created.key;
    });
  } finally {
    await dataSource.destroy();
  }
}

// ------------------------------------------------------------------ batches of order sagas

/** The four sample participants' effect ledgers (one row per applied effect). */
export const EFFECT_LEDGERS = [
  'sample_credit',
  'sample_inventory',
  'sample_payment',
  'sample_order',
];
/** A card the payment participant declines for good: that order is compensated. */
export const DECLINED_CARD = '4000000000000002';

export type OrderOutcome = 'completed' | 'compensated';

/**
 * Starts `count` order sagas through the admin API (`concurrency` requests at a time); every
 * third has the declined card. Returns saga id → the outcome it must reach.
 */
export async function startOrders(
  api: { apiUrl: string; auth: Record<string, string> },
  label: string,
  count: number,
  concurrency = 20,
): Promise<Map<string, OrderOutcome>> {
  const expected = new Map<string, OrderOutcome>();
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const declined = i % 3 === 0;
      const input = {
        orderId: `${label}-${i}`,
        customerId: `${label}-c${i}`,
        sku: 'SKU-9',
        quantity: 1,
        amount: 10,
        card: declined ? DECLINED_CARD : '4242424242424242',
      };
      const res = await request(api.apiUrl)
        .post('/sagas')
        .set(api.auth)
        .send({ sagaType: 'order', idempotencyKey: `${label}-${i}`, input })
        .expect(201);
      expected.set(res.body.id, declined ? 'compensated' : 'completed');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return expected;
}

export async function sagaStatuses(
  db: Client,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM saga_instance WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** How many of the sagas are still `running` or `compensating`. */
export async function unfinishedCount(db: Client, ids: readonly string[]): Promise<number> {
  return [...(await sagaStatuses(db, ids)).values()].filter(
    (s) => s === 'running' || s === 'compensating',
  ).length;
}

/** Waits until every saga is completed or compensated, then checks each has its expected outcome. */
export async function expectAllFinished(
  db: Client,
  expected: ReadonlyMap<string, OrderOutcome>,
  timeoutMs = 90_000,
): Promise<void> {
  const ids = [...expected.keys()];
  const final = await eventually(
    `all ${ids.length} sagas to finish`,
    async () => {
      const now = await sagaStatuses(db, ids);
      return now.size === ids.length &&
        [...now.values()].every((s) => s === 'completed' || s === 'compensated')
        ? now
        : undefined;
    },
    timeoutMs,
    250,
  );
  expect(Object.fromEntries(final)).toEqual(Object.fromEntries(expected));
}

/**
 * Each (saga, step, kind) at most once in every ledger, and exactly the effects each outcome
 * implies. Returns the number of duplicate effects found (0, or the assertion failed).
 */
export async function expectEffectsExactlyOnce(
  db: Client,
  expected: ReadonlyMap<string, OrderOutcome>,
): Promise<number> {
  const ids = [...expected.keys()];
  const completed = [
    'chargePayment:forward',
    'confirmOrder:forward',
    'notifyCustomer:forward',
    'reserveCredit:forward',
    'reserveInventory:forward',
  ];
  const compensated = [
    'reserveCredit:compensate',
    'reserveCredit:forward',
    'reserveInventory:compensate',
    'reserveInventory:forward',
  ];
  // A completed saga's notification is sent as it completes and applied a little later.
  const effects = await eventually(
    'every completed saga to have notified its customer',
    async () => {
      const result = await db.query<{ saga_id: string; effects: string[] }>(
        `SELECT saga_id, array_agg(step || ':' || kind ORDER BY step, kind) AS effects FROM (
           ${EFFECT_LEDGERS.map((s) => `SELECT saga_id, step, kind FROM ${s}.effect_ledger`).join(' UNION ALL ')}
         ) e WHERE saga_id = ANY($1::uuid[]) GROUP BY saga_id`,
        [ids],
      );
      const notified = result.rows.every(
        (r) =>
          expected.get(r.saga_id) !== 'completed' || r.effects.includes('notifyCustomer:forward'),
      );
      return notified && result.rows.length === ids.length ? result : undefined;
    },
    60_000,
    250,
  );
  let duplicates = 0;
  for (const schema of EFFECT_LEDGERS) {
    const dup = await db.query<{ n: number }>(
      `SELECT saga_id, step, kind, count(*)::int AS n FROM ${schema}.effect_ledger WHERE saga_id = ANY($1::uuid[]) GROUP BY 1, 2, 3 HAVING count(*) > 1`,
      [ids],
    );
    duplicates += dup.rows.reduce((sum, r) => sum + r.n - 1, 0);
    expect({ schema, duplicates: dup.rows }).toEqual({ schema, duplicates: [] });
  }
  for (const row of effects.rows) {
    expect({ saga: row.saga_id, effects: row.effects }).toEqual({
      saga: row.saga_id,
      effects: expected.get(row.saga_id) === 'completed' ? completed : compensated,
    });
  }
  expect(effects.rows).toHaveLength(ids.length);
  return duplicates;
}

/**
 * One writer per transition: each saga's journal holds every instance version from 1 to its
 * current version, with no gap (a lost or doubled transition would show here).
 */
export async function expectContiguousVersions(db: Client, ids: readonly string[]): Promise<void> {
  const { rows } = await db.query<{ id: string; version: number; versions: number[] }>(
    `SELECT i.id, i.version, array_agg(DISTINCT j.instance_version ORDER BY j.instance_version) AS versions
       FROM saga_instance i JOIN saga_journal j ON j.saga_id = i.id
      WHERE i.id = ANY($1::uuid[]) GROUP BY i.id, i.version`,
    [ids],
  );
  expect(rows).toHaveLength(ids.length);
  const broken = rows.filter(
    (r) => r.versions.length !== r.version || r.versions.some((v, index) => v !== index + 1),
  );
  expect(broken).toEqual([]);
}
