import { Pool } from 'pg';
import { RequestRecord } from '../driver/admin-client';
import { percentiles } from '../log';
import { CrashPointLife, FaultRecord } from '../nemesis/nemesis';
import { KillRecord } from '../nemesis/recovery-probe';
import { ledgerSchema, SERVICES } from '../plan';
import { countBy } from './saga-checks';
import { Snapshot } from './snapshot';

/** Commands delivered vs effects applied, per participant. */
export async function participantFigures(pool: Pool): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const service of SERVICES) {
    const schema = ledgerSchema(service);
    const d = (
      await pool.query(
        `SELECT count(*)::int AS commands, coalesce(sum(deliveries), 0)::int AS deliveries FROM chaos.delivery WHERE service = $1`,
        [service],
      )
    ).rows[0];
    const e = (
      await pool.query(
        `SELECT count(*)::int AS n FROM ${schema}.effect_ledger WHERE source = 'participant'`,
      )
    ).rows[0];
    const byHand = (
      await pool.query(
        `SELECT count(*)::int AS n FROM ${schema}.effect_ledger WHERE source = 'operator'`,
      )
    ).rows[0];
    const dup = (await pool.query(`SELECT count(*)::int AS n FROM ${schema}.effect_duplicate`))
      .rows[0];
    out[service] = {
      distinctCommands: d.commands,
      deliveries: d.deliveries,
      effectsApplied: e.n,
      compensationsByHand: byHand.n,
      duplicateEffects: dup.n,
    };
  }
  return out;
}

/** Faults the participants injected themselves, by type. */
export async function participantFaults(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ type: string; n: number }>(
    `SELECT type, count(*)::int AS n FROM chaos.fault GROUP BY type ORDER BY type`,
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

/**
 * Fills in each kill's time to the first transition an orchestrator made after it: a reply
 * applied or a timer fired (journal actor `reply` or `timer`; starts and operator actions are
 * written by the admin API and say nothing about the orchestrators).
 */
export async function firstProgress(pool: Pool, kills: readonly KillRecord[]): Promise<void> {
  for (const kill of kills) {
    const { rows } = await pool.query<{ ms: string | null }>(
      `SELECT extract(epoch FROM min(recorded_at) - $1::timestamptz) * 1000 AS ms FROM saga_journal
        WHERE recorded_at > $1::timestamptz AND actor IN ('reply', 'timer')`,
      [new Date(kill.at)],
    );
    kill.firstProgressMs =
      rows[0]?.ms === null || rows[0]?.ms === undefined ? null : Math.round(Number(rows[0].ms));
  }
}

export function killFigures(kills: readonly KillRecord[]) {
  const stats = (list: readonly KillRecord[]) => ({
    kills: list.length,
    firstProgressMs: percentiles(
      list.map((k) => k.firstProgressMs).filter((v): v is number => v !== null),
    ),
    catchUpMs: percentiles(list.map((k) => k.catchUpMs).filter((v): v is number => v !== null)),
    notCaughtUp: list.filter((k) => k.catchUpMs === null).length,
    restartReadyMs: percentiles(list.map((k) => k.readyMs).filter((v): v is number => v !== null)),
  });
  return {
    byCause: countBy([...kills], (k) => k.cause.replace(/^crash-point:/, 'crash point ')),
    all: stats(kills),
    withSurvivor: stats(kills.filter((k) => k.survivors > 0)),
    noOrchestratorLeft: stats(kills.filter((k) => k.survivors === 0)),
  };
}

export function faultFigures(faults: readonly FaultRecord[], lives: readonly CrashPointLife[]) {
  return {
    nemesis: countBy([...faults], (f) =>
      f.kind === 'inject' ? `inject ${String(f.detail.injection)}` : f.kind,
    ),
    nemesisFailed: faults.filter((f) => !f.ok).map((f) => ({ kind: f.kind, note: f.note })),
    crashPointLives: countBy([...lives], (l) => `${l.point} ${l.outcome}`),
  };
}

export function sagaFigures(snapshot: Snapshot, loadStartedAt: number, endedAt: number) {
  const terminal = [...snapshot.instances.values()].filter(
    (i) => i.status === 'completed' || i.status === 'compensated',
  );
  const seconds = (endedAt - loadStartedAt) / 1000;
  return {
    byStatus: countBy([...snapshot.instances.values()], (i) => i.status),
    timeToTerminalMs: percentiles(
      terminal.map((i) => i.updatedAt.getTime() - i.createdAt.getTime()),
    ),
    sagasPerSecond: Math.round((terminal.length / seconds) * 100) / 100,
  };
}

export function requestFigures(requests: readonly RequestRecord[]) {
  return countBy(
    [...requests],
    (q) => `${q.purpose} ${q.fate === 'responded' ? q.status : q.fate}`,
  );
}
