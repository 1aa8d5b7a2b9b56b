import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/** The park reasons the runtime writes; each gets a series (0 until something is parked). */
export const KNOWN_PARK_REASONS: readonly string[] = [
  'malformed',
  'unknown-saga',
  'unknown-definition',
  'invalid-reply',
  'unknown-step',
  'unmatched-reply',
  'malformed-event',
  'invalid-event',
  'invalid-input',
];

interface StoreSnapshot {
  readonly outboxBacklog: number;
  readonly outboxOldestAgeSeconds: number;
  readonly timersPending: number;
  readonly timersOverdue: number;
  readonly parked: ReadonlyMap<string, number>;
}

/** How far past its due time a timer must be to count as overdue (a sweep period and then some). */
const OVERDUE_AFTER_SECONDS = 5;

/**
 * Store gauges, read on scrape with one query (shared by the gauges of one scrape): the outbox
 * backlog and the age of its oldest row, timers armed and overdue, messages parked by reason.
 * Every orchestrator reports the same store-wide figures: aggregate them with `max`, not `sum`.
 *
 * @example
 * registerStoreGauges(registry, dataSource);
 */
export function registerStoreGauges(registry: Registry, dataSource: DataSource): void {
  const snapshot = sharedPerScrape(() => readStore(dataSource));
  const gauge = (name: string, help: string, read: (s: StoreSnapshot) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await snapshot().catch(() => null);
        if (s) this.set(read(s)); // the store is away: keep the last figure (readiness says why)
      },
    });
  gauge(
    'sagaflow_outbox_backlog',
    'Messages in the outbox not yet published.',
    (s) => s.outboxBacklog,
  );
  gauge(
    'sagaflow_outbox_oldest_age_seconds',
    'Age of the oldest unpublished outbox message (0 when empty).',
    (s) => s.outboxOldestAgeSeconds,
  );
  gauge('sagaflow_timers_pending', 'Timers armed in saga_timer.', (s) => s.timersPending);
  gauge(
    'sagaflow_timers_overdue',
    `Timers due more than ${OVERDUE_AFTER_SECONDS} s ago and not fired yet.`,
    (s) => s.timersOverdue,
  );
  const seen = new Set(KNOWN_PARK_REASONS);
  new Gauge({
    name: 'sagaflow_parked_messages',
    help: 'Messages parked (status parked), by reason code.',
    labelNames: ['reason_code'],
    registers: [registry],
    async collect() {
      const parked = (await snapshot().catch(() => null))?.parked;
      if (!parked) return;
      parked.forEach((_, reason) => seen.add(reason));
      for (const reason of seen) this.set({ reason_code: reason }, parked.get(reason) ?? 0);
    },
  });
}

async function readStore(dataSource: DataSource): Promise<StoreSnapshot> {
  const [row] = (await dataSource.query(
    `SELECT (SELECT count(*) FROM outbox_message)::float8 AS outbox,
            coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM outbox_message), 0)::float8 AS oldest,
            (SELECT count(*) FROM saga_timer)::float8 AS timers,
            (SELECT count(*) FROM saga_timer WHERE due_at < now() - make_interval(secs => $1))::float8 AS overdue,
            (SELECT coalesce(jsonb_object_agg(reason_code, n), '{}'::jsonb) FROM (
               SELECT reason_code, count(*) AS n FROM parked_message WHERE status = 'parked' GROUP BY reason_code
             ) p) AS parked`,
    [OVERDUE_AFTER_SECONDS],
  )) as Array<{
    outbox: number;
    oldest: number;
    timers: number;
    overdue: number;
    parked: Record<string, number>;
  }>;
  return {
    outboxBacklog: Number(row!.outbox),
    outboxOldestAgeSeconds: Math.max(0, Number(row!.oldest)),
    timersPending: Number(row!.timers),
    timersOverdue: Number(row!.overdue),
    parked: new Map(Object.entries(row!.parked).map(([k, v]) => [k, Number(v)])),
  };
}

/** One `read()` for the gauges of one scrape: calls within 250 ms share the same promise. */
export function sharedPerScrape<T>(read: () => Promise<T>, windowMs = 250): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > windowMs) {
      const value = read();
      value.catch(() => (last = null)); // a failed read is not reused
      last = { at: now, value };
    }
    return last.value;
  };
}
