import { Pool } from 'pg';
import { percentiles } from '../log';
import { FaultRecord } from '../nemesis/nemesis';
import { inconclusive, notExercised, verdict, Verdict } from './verdict';

export interface TimerFigures {
  readonly armed: number;
  readonly fired: number;
  readonly cancelled: number;
  readonly pending: number;
  readonly latenessMs: ReturnType<typeof percentiles>;
  readonly afterRedisFlush: ReturnType<typeof percentiles>;
}

const FLUSH_WINDOW_MS = 20_000;

/**
 * 8. Timers, from the trigger log of `saga_timer` (chaos.timer_event): none lost (armed, then
 * neither fired nor cancelled, and overdue now), none fired early (the journal line of a timer
 * transition before the timer's due time), lateness of every timer removed at or after its due
 * time; and, separately, the lateness of timers due just after a Redis flush, which the sweep
 * must bound by its period.
 */
export async function timers(
  pool: Pool,
  sweepMs: number,
  faults: readonly FaultRecord[],
  orchestratorDeaths: readonly number[],
): Promise<{ verdicts: Verdict[]; figures: TimerFigures }> {
  const counts = (
    await pool.query(
      `SELECT count(*) FILTER (WHERE op = 'armed')::int AS armed,
              count(*) FILTER (WHERE op = 'removed' AND txn_now >= due_at)::int AS fired,
              count(*) FILTER (WHERE op = 'removed' AND txn_now < due_at)::int AS cancelled
         FROM chaos.timer_event`,
    )
  ).rows[0];
  const pending = Number((await pool.query(`SELECT count(*) AS n FROM saga_timer`)).rows[0].n);
  const lost = (
    await pool.query(
      `SELECT timer_key, due_at FROM saga_timer
        WHERE due_at < now() - make_interval(secs => $1 / 1000.0) LIMIT 20`,
      [sweepMs + 10_000],
    )
  ).rows;
  // Every timer transition in the journal, joined to its timer's due time.
  const fires = (
    await pool.query<{ saga_id: string; type: string; recorded_at: Date; due_at: Date }>(
      `SELECT j.saga_id, j.type, j.step, j.attempt, j.recorded_at, a.due_at
         FROM saga_journal j
         JOIN chaos.timer_event a ON a.op = 'armed' AND a.timer_key = CASE
              WHEN j.type = 'step.timedOut' THEN j.saga_id || ':' || j.step || ':' || j.kind || ':' || j.attempt || ':timeout'
              WHEN j.type = 'command.sent' THEN j.saga_id || ':' || j.step || ':' || j.kind || ':' || j.attempt || ':retry'
              ELSE j.saga_id || ':deadline' END
        WHERE j.actor = 'timer' AND j.type IN ('step.timedOut', 'command.sent', 'saga.deadlineReached')`,
    )
  ).rows;
  const early = fires.filter((f) => f.recorded_at < f.due_at);
  const removals = (
    await pool.query<{ due: Date; late: number }>(
      `SELECT due_at AS due, extract(epoch FROM at - due_at) * 1000 AS late
         FROM chaos.timer_event WHERE op = 'removed' AND txn_now >= due_at`,
    )
  ).rows.map((r) => ({ due: r.due.getTime(), late: Number(r.late) }));
  const flushes = faults.filter((f) => f.kind === 'redis-flush' && f.ok);
  // A window is clear when no orchestrator died and the database was not cut around it: then
  // a late timer is late because its wake-up was lost, and only the sweep can bound it.
  const cuts = faults.filter((f) => f.kind === 'pg-cut');
  const clean = flushes.filter(
    (f) =>
      !orchestratorDeaths.some((at) => at > f.at - 15_000 && at < f.at + FLUSH_WINDOW_MS) &&
      !cuts.some(
        (c) => c.at < f.at + FLUSH_WINDOW_MS && c.at + (c.durationMs ?? 0) + 15_000 > f.at,
      ),
  );
  const afterFlush = removals
    .filter((r) => clean.some((f) => r.due >= f.at && r.due < f.at + FLUSH_WINDOW_MS))
    .map((r) => r.late);
  const figures: TimerFigures = {
    armed: counts.armed,
    fired: counts.fired,
    cancelled: counts.cancelled,
    pending,
    latenessMs: percentiles(removals.map((r) => r.late)),
    afterRedisFlush: percentiles(afterFlush),
  };
  const bound = sweepMs + 1000;
  const flushName = 'timers due after a Redis flush fire within the sweep period (+1 s)';
  const flushVerdict =
    flushes.length === 0
      ? notExercised('8b', flushName, 'no Redis flush in this run')
      : afterFlush.length === 0
        ? inconclusive(
            '8b',
            flushName,
            `no timer fell due in a flush window clear of other faults (${flushes.length} flushes, ${clean.length} clear)`,
          )
        : verdict(
            '8b',
            flushName,
            figures.afterRedisFlush.max! <= bound,
            `${afterFlush.length} timers in ${clean.length} clear flush windows: lateness p50 ${figures.afterRedisFlush.p50} ms, max ${figures.afterRedisFlush.max} ms (bound ${bound} ms)`,
          );
  return {
    verdicts: [
      verdict(
        '8',
        'timers: none lost, none early',
        lost.length === 0 && early.length === 0,
        `${figures.armed} armed, ${figures.fired} fired, ${figures.cancelled} cancelled, ${pending} pending; lost ${lost.length}; early ${early.length} of ${fires.length} timer transitions; lateness p50 ${figures.latenessMs.p50} ms, p99 ${figures.latenessMs.p99} ms, max ${figures.latenessMs.max} ms`,
        [...lost.map((l) => ({ lost: l })), ...early.slice(0, 10).map((e) => ({ early: e }))],
      ),
      flushVerdict,
    ],
    figures,
  };
}
