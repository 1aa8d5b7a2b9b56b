import {
  SagaPageRequest,
  SagaSearchCriteria,
  SagaSearchRepository,
  Sql,
  withConnection,
} from '@sagaflow/persistence';
import { MIGRATIONS } from '@sagaflow/migrations';
import { orderSaga } from '@sagaflow/sample-order';
import { createMigratedStore, TestStore } from '../support/fixtures';

/**
 * The saga search on 200,000 instances: every main filter shape is answered through an index
 * (no sequential scan of saga_instance), and a filtered page is fast. The latency at one
 * million belongs to the benchmark; the figures here are printed for the record.
 */
/** `SAGAFLOW_SEARCH_ROWS=1000000` measures at the benchmark's size (slow: minutes of seeding). */
const ROWS = Number(process.env.SAGAFLOW_SEARCH_ROWS ?? 200_000);

describe('saga search indexes', () => {
  let store: TestStore;
  const search = new SagaSearchRepository();

  beforeAll(async () => {
    store = await createMigratedStore({ prefix: 'sagaflow_search_idx', register: [orderSaga] });
    await seed(store);
  }, 900_000);

  afterAll(async () => {
    await store?.close();
  });

  const firstPage: SagaPageRequest = { sort: 'updatedAt', order: 'desc', limit: 50, after: null };
  const day = 24 * 3600 * 1000;
  const shapes: Array<[string, SagaSearchCriteria, SagaPageRequest?]> = [
    ['no filter (newest change first)', {}],
    ['one status', { statuses: ['running'] }],
    ['several statuses', { statuses: ['running', 'failed'] }],
    ['type and version', { sagaType: 'shipping', sagaVersion: 1 }],
    ['type, version and status', { sagaType: 'order', sagaVersion: 1, statuses: ['failed'] }],
    ['business key', { businessKey: 'bk-123456' }],
    [
      'created range, oldest first',
      { createdFrom: new Date(Date.now() - 3 * day), createdTo: new Date(Date.now() - day) },
      { sort: 'createdAt', order: 'asc', limit: 50, after: null },
    ],
    ['updated range', { updatedFrom: new Date(Date.now() - 2 * day) }],
    ['stuck for 5 minutes', { stuckForMs: 5 * 60_000 }],
    ['past deadline', { pastDeadline: true }],
    ['at a step (active and failed)', { steps: [{ sagaType: 'order', sagaVersion: 1, index: 2 }] }],
    [
      'a later page',
      { statuses: ['completed'] },
      {
        ...firstPage,
        after: {
          sortValue: new Date(Date.now() - 10 * day).toISOString().replace('Z', '000Z'),
          id: '80000000-0000-4000-8000-000000000000',
        },
      },
    ],
  ];

  it.each(shapes)('uses an index for: %s', async (_name, criteria, page = firstPage) => {
    const plans = await explain(store, (sql) => search.page(sql, criteria, page));
    expect(seqScansOfInstances(plans)).toEqual([]);
  });

  it.each<[string, SagaSearchCriteria]>([
    ['a type', { sagaType: 'shipping', sagaVersion: 1 }],
    ['stuck sagas', { stuckForMs: 5 * 60_000 }],
    ['a step', { steps: [{ sagaType: 'order', sagaVersion: 1, index: 2 }] }],
  ])('counts by status through an index for: %s', async (_name, criteria) => {
    const plans = await explain(store, (sql) => search.countByStatus(sql, criteria));
    expect(seqScansOfInstances(plans)).toEqual([]);
  });

  it('counts every saga by status (figure printed)', async () => {
    const started = process.hrtime.bigint();
    const counts = await withConnection(store.dataSource, (sql) => search.countByStatus(sql, {}));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(ROWS);
    process.stdout.write(
      `\ncounts by status over ${ROWS} instances, unfiltered: ${ms.toFixed(1)} ms\n`,
    );
  });

  it('answers filtered pages quickly (figures printed)', async () => {
    const timings: string[] = [];
    for (const [name, criteria, page = firstPage] of shapes) {
      const ms = await withConnection(store.dataSource, async (sql) => {
        await search.page(sql, criteria, page); // warm the cache
        const runs: number[] = [];
        for (let i = 0; i < 5; i++) {
          const started = process.hrtime.bigint();
          await search.page(sql, criteria, page);
          runs.push(Number(process.hrtime.bigint() - started) / 1e6);
        }
        return runs.sort((a, b) => a - b)[2]!;
      });
      timings.push(`${name.padEnd(36)} ${ms.toFixed(1).padStart(6)} ms`);
      // Generous bound for a shared 2-core machine; the benchmark measures 50 ms at 1M.
      expect(ms).toBeLessThan(250);
    }
    process.stdout.write(
      `\nsaga search at ${ROWS} instances (median of 5):\n${timings.join('\n')}\n`,
    );
  });

  it('pages through a filter without duplicates or gaps', async () => {
    const criteria: SagaSearchCriteria = { statuses: ['failed'], sagaType: 'order' };
    const expected = await countMatching(store, `status = 'failed' AND saga_type = 'order'`);
    const seen = new Set<string>();
    let page: SagaPageRequest = { sort: 'createdAt', order: 'desc', limit: 500, after: null };
    for (;;) {
      const found = await withConnection(store.dataSource, (sql) =>
        search.page(sql, criteria, page),
      );
      for (const item of found.items) seen.add(item.id);
      if (!found.next) break;
      page = { ...page, after: found.next };
    }
    expect(seen.size).toBe(expected);
  });

  it('the migration goes down and up again on a filled table', async () => {
    const Migration = MIGRATIONS.find((m) => m.name === 'AdminSearch1764400000000')!;
    const indexes = async () =>
      (
        await store.dataSource.query(
          `SELECT indexname FROM pg_indexes WHERE tablename IN ('saga_instance', 'parked_message', 'saga_journal') ORDER BY 1`,
        )
      ).map((r: { indexname: string }) => r.indexname);
    const runner = store.dataSource.createQueryRunner();
    try {
      await new Migration().down(runner);
      const down = await indexes();
      expect(down).toContain('saga_instance_status_updated');
      expect(down).not.toContain('saga_instance_status_updated_id');
      await new Migration().up(runner);
      expect(await indexes()).toEqual(
        expect.arrayContaining([
          'saga_instance_status_updated_id',
          'saga_instance_type_status_updated',
          'saga_instance_created_id',
          'saga_instance_updated_id',
          'saga_instance_failed_step',
          'saga_journal_deadline_reached',
          'parked_message_status_id',
          'parked_message_saga',
        ]),
      );
    } finally {
      await runner.release();
    }
  });
});

/**
 * 200k instances in one statement, valid for every CHECK constraint: mostly finished sagas,
 * a few percent running, compensating and failed, spread over 30 days; a few overdue deadline
 * timers and fired deadlines.
 */
async function seed(store: TestStore): Promise<void> {
  const ds = store.dataSource;
  // A second saga type (one instance in ten), so a type filter is selective.
  await ds.query(
    `INSERT INTO saga_definition (name, version, hash, compiled) VALUES ('shipping', 1, 'seed', '{}')`,
  );
  await ds.query(`
    INSERT INTO saga_instance (id, saga_type, saga_version, status, current_step, attempt, data, state,
                               last_error, business_key, idempotency_key, version, created_at, updated_at)
    SELECT gen_random_uuid(), CASE WHEN i % 10 = 0 THEN 'shipping' ELSE 'order' END, 1, st.status,
           CASE WHEN st.status IN ('running', 'compensating') THEN i % 4 END,
           CASE WHEN st.status IN ('running', 'compensating') THEN 1 + i % 3 END,
           jsonb_build_object('orderId', 'o-' || i, 'card', '4242424242424242'),
           CASE WHEN st.status = 'failed' THEN jsonb_build_object('completed', '[]'::jsonb, 'failedStep', i % 4)
                ELSE jsonb_build_object('completed', '[]'::jsonb) END,
           CASE WHEN st.status IN ('compensating', 'compensated', 'failed')
                THEN '{"step":"chargePayment","kind":"forward","type":"card-declined","message":"declined"}'::jsonb END,
           'bk-' || i, 'seed-' || i, 3,
           t.created, t.created + (i % 600) * interval '1 second'
      FROM generate_series(1, ${ROWS}) AS i
      CROSS JOIN LATERAL (SELECT now() - (i % 43200) * interval '1 minute' - (i % 997) * interval '1 millisecond' AS created) t
      CROSS JOIN LATERAL (SELECT CASE
             WHEN i % 100 < 80 THEN 'completed'
             WHEN i % 100 < 88 THEN 'compensated'
             WHEN i % 100 < 94 THEN 'running'
             WHEN i % 100 < 97 THEN 'compensating'
             ELSE 'failed' END AS status) st`);
  await ds.query(`
    INSERT INTO saga_timer (timer_key, saga_id, due_at, event)
    SELECT id::text || ':deadline', id, now() - interval '1 minute', '{"type":"deadlineReached"}'::jsonb
      FROM saga_instance WHERE status = 'running' LIMIT 100`);
  await ds.query(`
    INSERT INTO saga_journal (saga_id, instance_version, type, actor, detail)
    SELECT id, version, 'saga.deadlineReached', 'timer', '{"pastPivot":true}'::jsonb
      FROM saga_instance WHERE status = 'compensating' LIMIT 100`);
  await ds.query(`VACUUM ANALYZE saga_instance`);
  await ds.query(`ANALYZE saga_timer`);
  await ds.query(`ANALYZE saga_journal`);
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

/** Runs `work` with a Sql that EXPLAINs each query (with its parameters) instead of running it. */
async function explain(
  store: TestStore,
  work: (sql: Sql) => Promise<unknown>,
): Promise<PlanNode[]> {
  const plans: PlanNode[] = [];
  await withConnection(store.dataSource, async (real) => {
    const explaining: Sql = {
      async rows<T>(text: string, params: readonly unknown[] = []) {
        const [row] = await real.rows<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
          `EXPLAIN (FORMAT JSON) ${text}`,
          params,
        );
        plans.push(row!['QUERY PLAN'][0]!.Plan);
        return [] as T[];
      },
      exec: () => Promise.reject(new Error('explain only reads')),
    };
    await work(explaining);
  });
  return plans;
}

function seqScansOfInstances(plans: readonly PlanNode[]): string[] {
  const found: string[] = [];
  const visit = (node: PlanNode) => {
    if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'saga_instance') {
      found.push(JSON.stringify(node).slice(0, 300));
    }
    node.Plans?.forEach(visit);
  };
  plans.forEach(visit);
  return found;
}

async function countMatching(store: TestStore, where: string): Promise<number> {
  const [row] = await store.dataSource.query(
    `SELECT count(*)::int AS n FROM saga_instance WHERE ${where}`,
  );
  return row.n;
}
