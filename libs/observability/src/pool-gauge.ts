import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** The counters of a pg Pool that the gauge reads. */
interface PgPoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/**
 * `sagaflow_db_pool_connections{state="total|idle|waiting"}`: the pg pool behind the process's
 * TypeORM DataSource, read on scrape (no query). `waiting` above 0 for long means the pool is
 * too small for the load (`SAGAFLOW_DB_POOL_SIZE`).
 */
export function registerPoolGauge(registry: Registry, dataSource: DataSource): void {
  new Gauge({
    name: 'sagaflow_db_pool_connections',
    help: 'Connections of the PostgreSQL pool, by state (total, idle, waiting clients).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = poolOf(dataSource);
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}

/** TypeORM keeps its pg Pool as `driver.master` (not typed): read it defensively. */
function poolOf(dataSource: DataSource): PgPoolCounts | null {
  if (!dataSource.isInitialized) return null;
  const pool = (dataSource.driver as { master?: Partial<PgPoolCounts> }).master;
  return pool && typeof pool.totalCount === 'number' ? (pool as PgPoolCounts) : null;
}
