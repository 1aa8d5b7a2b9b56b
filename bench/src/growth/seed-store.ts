import { withClient } from '../infra/database';

/**
 * Grows the store to `target` saga instances with terminal copies of one real finished bench
 * saga: its row, its journal lines and its inbox entries (the inbox keeps every reply id), each
 * with a new id, in one `INSERT … SELECT generate_series` per table. Every 50th is compensated
 * and every 4th is of another type, so a filtered list has something to filter.
 */
export async function seedStore(
  url: string,
  target: number,
): Promise<{ added: number; seconds: number }> {
  const started = Date.now();
  const added = await withClient(url, async (c) => {
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM saga_instance');
    const from = rows[0]!.n;
    if (from >= target) return 0;
    await c.query(`INSERT INTO saga_definition (name, version, hash, compiled)
                   SELECT 'archive', 1, hash, compiled FROM saga_definition WHERE name = 'bench'
                   ON CONFLICT DO NOTHING`);
    await c.query('BEGIN');
    // Bulk load: the rows are valid by construction (copies of a real saga), so the foreign-key
    // triggers are skipped for this transaction; rows go in index order, not at random places.
    await c.query(`SET LOCAL session_replication_role = replica`);
    await c.query(`CREATE TEMP TABLE seed_template ON COMMIT DROP AS
                     SELECT * FROM saga_instance WHERE status = 'completed' ORDER BY updated_at LIMIT 1`);
    await c.query(
      `CREATE TEMP TABLE seed_ids ON COMMIT DROP AS
                     SELECT g, gen_random_uuid() AS id FROM generate_series($1::int + 1, $2::int) AS g ORDER BY 2`,
      [from, target],
    );
    await c.query(INSERT_INSTANCES);
    await c.query(INSERT_JOURNAL);
    await c.query(INSERT_INBOX);
    await c.query('COMMIT');
    await c.query('VACUUM ANALYZE saga_instance, saga_journal, inbox_message');
    return target - from;
  });
  return { added, seconds: (Date.now() - started) / 1000 };
}

const CAUSE = `'{"step":"reserve","kind":"forward","type":"seeded-failure","message":"seeded for the growth benchmark"}'::jsonb`;

// Spread over the last 30 days, newest last, like a store that has been running for a month.
const INSERT_INSTANCES = `
  INSERT INTO saga_instance (id, saga_type, saga_version, status, current_step, attempt, data, state,
                             last_error, business_key, idempotency_key, version, created_at, updated_at)
  SELECT s.id, CASE WHEN s.g % 4 = 0 THEN 'archive' ELSE t.saga_type END, t.saga_version,
         CASE WHEN s.g % 50 = 0 THEN 'compensated' ELSE 'completed' END, NULL, NULL,
         jsonb_set(t.data, '{orderId}', to_jsonb('seed-' || s.g)), t.state,
         CASE WHEN s.g % 50 = 0 THEN ${CAUSE} END, NULL, 'seed-' || s.g, t.version,
         now() - interval '30 days' * (1 - s.g::float8 / 2000000), now() - interval '30 days' * (1 - s.g::float8 / 2000000)
    FROM seed_ids s CROSS JOIN seed_template t ORDER BY s.id`;

const INSERT_JOURNAL = `
  INSERT INTO saga_journal (saga_id, instance_version, type, step, kind, attempt, actor, detail, recorded_at)
  SELECT s.id, j.instance_version, j.type, j.step, j.kind, j.attempt, j.actor, j.detail, j.recorded_at
    FROM seed_ids s CROSS JOIN (SELECT j.* FROM saga_journal j JOIN seed_template t ON j.saga_id = t.id) j
   ORDER BY s.id, j.id`;

const INSERT_INBOX = `
  INSERT INTO inbox_message (consumer, message_id, received_at)
  SELECT 'orchestrator.replies', 'reply:seed-' || s.g || '-' || k, now() - interval '30 days' * (1 - s.g::float8 / 2000000)
    FROM seed_ids s CROSS JOIN generate_series(1, 3) AS k ORDER BY 2`;
