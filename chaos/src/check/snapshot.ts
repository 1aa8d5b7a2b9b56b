import { Pool } from 'pg';
import { ledgerSchema, OrderStep, SERVICES } from '../plan';

export interface InstanceRow {
  readonly id: string;
  readonly status: string;
  readonly version: number;
  readonly key: string | null;
  readonly orderId: string;
  readonly cause: { step: string; kind: string; type: string } | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface EffectRow {
  readonly step: OrderStep;
  readonly kind: 'forward' | 'compensate';
  readonly source: 'participant' | 'operator';
  readonly appliedAt: Date;
}

export interface OperatorLine {
  readonly sagaId: string;
  readonly action: string;
  readonly step: string | null;
  readonly reason: string;
  readonly version: number;
}

/** What the checker reads from the store and the ledgers once the run has settled. */
export interface Snapshot {
  readonly instances: Map<string, InstanceRow>;
  readonly effects: Map<string, EffectRow[]>;
  readonly duplicates: Array<{
    service: string;
    sagaId: string;
    step: string;
    kind: string;
    source: string;
  }>;
  readonly operatorLines: OperatorLine[];
  /** Per saga, the journal line types it has, with the failure types of its failed steps. */
  readonly journalMarks: Map<string, Set<string>>;
}

export async function loadSnapshot(pool: Pool): Promise<Snapshot> {
  const instances = new Map<string, InstanceRow>();
  const rows = await pool.query(
    `SELECT id, status, version, idempotency_key, data->>'orderId' AS order_id, last_error, created_at, updated_at
       FROM saga_instance`,
  );
  for (const r of rows.rows)
    instances.set(r.id, {
      id: r.id,
      status: r.status,
      version: r.version,
      key: r.idempotency_key,
      orderId: r.order_id ?? '',
      cause: r.last_error,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    });
  const effects = new Map<string, EffectRow[]>();
  const duplicates: Snapshot['duplicates'] = [];
  for (const service of SERVICES) {
    const schema = ledgerSchema(service);
    const ledger = await pool.query(
      `SELECT saga_id, step, kind, source, applied_at FROM ${schema}.effect_ledger`,
    );
    for (const r of ledger.rows) {
      const list = effects.get(r.saga_id) ?? [];
      list.push({ step: r.step, kind: r.kind, source: r.source, appliedAt: r.applied_at });
      effects.set(r.saga_id, list);
    }
    const dups = await pool.query(
      `SELECT saga_id, step, kind, source FROM ${schema}.effect_duplicate`,
    );
    for (const r of dups.rows)
      duplicates.push({ service, sagaId: r.saga_id, step: r.step, kind: r.kind, source: r.source });
  }
  const operatorLines = (
    await pool.query(
      `SELECT saga_id, step, detail->>'action' AS action, detail->>'reason' AS reason, instance_version
         FROM saga_journal WHERE type = 'operator.action'`,
    )
  ).rows.map((r) => ({
    sagaId: r.saga_id,
    action: r.action,
    step: r.step,
    reason: r.reason ?? '',
    version: r.instance_version,
  }));
  const journalMarks = new Map<string, Set<string>>();
  const marks = await pool.query(
    `SELECT saga_id, type || coalesce(':' || (detail->'failure'->>'type'), '') AS mark
       FROM saga_journal
      WHERE type IN ('step.timedOut', 'step.failed', 'saga.deadlineReached', 'saga.failed')
      GROUP BY 1, 2`,
  );
  for (const r of marks.rows) {
    const set = journalMarks.get(r.saga_id) ?? new Set<string>();
    set.add(r.mark);
    journalMarks.set(r.saga_id, set);
  }
  return { instances, effects, duplicates, operatorLines, journalMarks };
}

/** `[nemesis] …` and `[drain] …` reasons: who acted on the saga. */
export function actorsOf(
  snapshot: Snapshot,
  sagaId: string,
  who: 'nemesis' | 'drain',
): OperatorLine[] {
  return snapshot.operatorLines.filter(
    (l) => l.sagaId === sagaId && l.reason.startsWith(`[${who}]`),
  );
}
