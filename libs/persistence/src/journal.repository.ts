import { JournalEntry } from '@sagaflow/engine';
import { Sql } from './sql';

export interface JournalRecord extends JournalEntry {
  readonly sagaId: string;
  readonly instanceVersion: number;
  /** Who or what caused the line: `api`, `reply` (message id in the detail), `timer`, `operator:<name>`. */
  readonly actor: string;
}

export interface TimelineEntry extends JournalRecord {
  readonly id: string;
  readonly recordedAt: Date;
}

/** The append-only journal: the instance's timeline and its audit trail. */
export class JournalRepository {
  async append(sql: Sql, records: readonly JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const values = records.map((r) => ({
      saga_id: r.sagaId,
      instance_version: r.instanceVersion,
      type: r.type,
      step: r.step ?? null,
      kind: r.kind ?? null,
      attempt: r.attempt ?? null,
      actor: r.actor,
      detail: r.detail ?? {},
    }));
    await sql.exec(
      `INSERT INTO saga_journal (saga_id, instance_version, type, step, kind, attempt, actor, detail)
       SELECT saga_id, instance_version, type, step, kind, attempt, actor, detail
         FROM jsonb_to_recordset($1::jsonb) AS v(saga_id uuid, instance_version integer, type text, step text,
              kind text, attempt integer, actor text, detail jsonb)`,
      [JSON.stringify(values)],
    );
  }

  async timeline(sql: Sql, sagaId: string): Promise<TimelineEntry[]> {
    const rows = await sql.rows<Record<string, unknown>>(
      `SELECT id, saga_id, instance_version, type, step, kind, attempt, actor, detail, recorded_at
         FROM saga_journal WHERE saga_id = $1 ORDER BY id`,
      [sagaId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      sagaId: r.saga_id as string,
      instanceVersion: r.instance_version as number,
      type: r.type as JournalEntry['type'],
      ...(r.step === null ? {} : { step: r.step as string }),
      ...(r.kind === null ? {} : { kind: r.kind as 'forward' | 'compensate' }),
      ...(r.attempt === null ? {} : { attempt: r.attempt as number }),
      actor: r.actor as string,
      detail: r.detail as Record<string, unknown>,
      recordedAt: r.recorded_at as Date,
    }));
  }
}
