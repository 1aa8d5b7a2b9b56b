import { ChildApp } from '../infra/child-app';
import { withClient } from '../infra/database';
import { freePort } from '../../../test/support/infrastructure';
import { percentiles, Percentiles } from '../load/latency';

export interface AdminListResult {
  /** `http`: through the admin API; `sql`: the equivalent query, because the route was not usable. */
  readonly via: 'http' | 'sql';
  readonly why: string;
  readonly request: string;
  readonly latencyMs: Percentiles;
  /** The query plan of the SQL equivalent (always measured, so the index used is on record). */
  readonly plan: string;
}

const REQUESTS = 200;
const PATH = '/sagas?status=completed&type=bench&limit=50';

/**
 * `GET /sagas?status=completed&type=bench&limit=50` against the admin API, 200 times one after
 * another, with an operator key the bench makes with the admin-key CLI. Without a usable route
 * (not built, or it refuses), the query that route needs is timed on PostgreSQL instead.
 */
export async function measureAdminList(env: Record<string, string>): Promise<AdminListResult> {
  const plan = await withClient(env.DATABASE_URL!, async (c) => {
    const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${LIST_SQL}`, [
      'completed',
      'bench',
    ]);
    return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  });
  const http = await overHttp(env);
  if (http.ok)
    return {
      via: 'http',
      why: 'the admin API answered 200',
      request: `GET ${PATH}`,
      latencyMs: http.latency,
      plan,
    };
  const latency = await withClient(env.DATABASE_URL!, (c) =>
    timed(() => c.query(LIST_SQL, ['completed', 'bench'])),
  );
  return {
    via: 'sql',
    why: http.why,
    request: LIST_SQL.replace(/\s+/g, ' ').trim(),
    latencyMs: latency,
    plan,
  };
}

/** The route's default page: most recently updated first, keyset order (updated_at, id). */
const LIST_SQL = `
  SELECT id, saga_type, saga_version, status, current_step, business_key, version, created_at, updated_at
    FROM saga_instance WHERE status = $1 AND saga_type = $2
   ORDER BY updated_at DESC, id DESC LIMIT 51`;

async function overHttp(
  env: Record<string, string>,
): Promise<{ ok: true; latency: Percentiles } | { ok: false; why: string }> {
  const port = await freePort();
  const api = ChildApp.start('admin-api', 'apps/admin-api/src/main.js', {
    ...env,
    ADMIN_API_PORT: String(port),
  });
  try {
    await api.waitFor(/admin API listening/);
    const key = await createKey(env);
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const url = `http://127.0.0.1:${port}${PATH}`;
    const probe = await fetch(url, { headers });
    const body = await probe.text();
    if (probe.status !== 200)
      return {
        ok: false,
        why: `GET ${PATH} answered ${probe.status} ${body.slice(0, 200)}${key ? '' : ' (no API key: the admin-key CLI failed)'}`,
      };
    return { ok: true, latency: await timed(() => fetch(url, { headers }).then((r) => r.text())) };
  } catch (error) {
    return { ok: false, why: `the admin API did not start: ${String(error).slice(0, 300)}` };
  } finally {
    await api.stop();
  }
}

/** `admin-key create --name bench --role operator` on the bench database; the key, or null. */
async function createKey(env: Record<string, string>): Promise<string | null> {
  const cli = ChildApp.start('admin-key', 'apps/admin-api/src/cli/admin-keys.js', env, [
    'create',
    '--name',
    'bench',
    '--role',
    'operator',
  ]);
  const code = await cli.wait();
  const key = cli.stdout.trim().split('\n').at(-1) ?? '';
  return code === 0 && key ? key : null;
}

async function timed(call: () => Promise<unknown>): Promise<Percentiles> {
  for (let i = 0; i < 10; i++) await call(); // warm the connection and the cache
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = process.hrtime.bigint();
    await call();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const p = percentiles(samples);
  const r = (n: number) => Math.round(n * 100) / 100;
  return { count: p.count, p50: r(p.p50), p95: r(p.p95), p99: r(p.p99), max: r(p.max) };
}
