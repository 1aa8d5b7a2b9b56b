import { Pool } from 'pg';
import { INJECTION_HEADER, Injection } from '../nemesis/reply-injector';
import { InjectionKind } from '../profiles';
import { Quiescence } from './settle';
import { verdict, Verdict } from './verdict';

/** What must become of each kind of injected message. */
const MUST: Record<InjectionKind, { parked?: string[]; ignored?: boolean; dropped?: boolean }> = {
  duplicate: { dropped: true },
  late: { ignored: true },
  stale: { parked: ['unmatched-reply'], ignored: true },
  forged: { parked: ['unmatched-reply'] },
  'not-json': { parked: ['malformed'] },
  'wrong-protocol': { parked: ['malformed'] },
  'bad-saga-id': { parked: ['malformed'] },
  'nul-char': { parked: ['malformed'] },
  'missing-field': { parked: ['malformed'] },
  'unknown-saga': { parked: ['unknown-saga'] },
  'unknown-step': { parked: ['unknown-step'] },
  'invalid-data': { parked: ['invalid-reply'], ignored: true },
};

export interface InjectionFigures {
  readonly byKind: Record<string, { sent: number; detected: number }>;
  readonly parked: number;
  readonly parkedInjected: number;
}

/**
 * 9. No silent drops, nothing forged applied: every injected malformed or forged reply is
 * parked with the right reason, late and stale ones are ignored, duplicates dropped; no
 * injected message id is ever applied and no reply id is applied twice; nothing else was
 * parked; every consumer group read its topic to the end.
 */
export async function messagesAccountedFor(
  pool: Pool,
  injections: readonly Injection[],
  quiet: Quiescence,
): Promise<{ verdict: Verdict; figures: InjectionFigures }> {
  const parkedRows = await pool.query<{
    inj: string | null;
    reason_code: string;
    saga_id: string | null;
  }>(`SELECT headers->>'${INJECTION_HEADER}' AS inj, reason_code, saga_id FROM parked_message`);
  const parkedBy = new Map<string, Set<string>>();
  for (const r of parkedRows.rows)
    if (r.inj) parkedBy.set(r.inj, new Set([...(parkedBy.get(r.inj) ?? []), r.reason_code]));
  const strangers = parkedRows.rows.filter((r) => !r.inj);
  const ignored = new Set(
    (
      await pool.query<{ id: string }>(
        `SELECT DISTINCT detail->>'messageId' AS id FROM saga_journal WHERE type = 'reply.ignored'`,
      )
    ).rows.map((r) => r.id),
  );
  const appliedInjected = (
    await pool.query(
      `SELECT saga_id, detail->>'messageId' AS id FROM saga_journal
        WHERE type = 'reply.received' AND detail->>'messageId' LIKE 'chaos-%'`,
    )
  ).rows;
  const appliedTwice = (
    await pool.query(
      `SELECT detail->>'messageId' AS id, count(*)::int AS n FROM saga_journal
        WHERE type = 'reply.received' GROUP BY 1 HAVING count(*) > 1 LIMIT 20`,
    )
  ).rows;
  const byKind: InjectionFigures['byKind'] = {};
  const missed: unknown[] = [];
  for (const inj of injections.filter((i) => i.sent)) {
    const must = MUST[inj.kind];
    const reasons = parkedBy.get(inj.id);
    const ok =
      (must.parked && reasons && [...reasons].every((r) => must.parked!.includes(r))) ||
      (must.ignored && inj.messageId !== null && ignored.has(inj.messageId)) ||
      (must.dropped && !reasons);
    const entry = (byKind[inj.kind] ??= { sent: 0, detected: 0 });
    entry.sent++;
    if (ok) entry.detected++;
    else missed.push({ ...inj, parkedAs: reasons ? [...reasons] : null });
  }
  const lagging = Object.entries(quiet.lag).filter(([, n]) => n !== 0);
  const problems = [
    ...missed,
    ...appliedInjected.map((r) => ({ appliedInjected: r })),
    ...appliedTwice.map((r) => ({ appliedTwice: r })),
    ...strangers.map((r) => ({ parkedButNotInjected: r })),
    ...lagging.map(([group, n]) => ({ lag: { group, n } })),
  ];
  const sent = injections.filter((i) => i.sent).length;
  return {
    verdict: verdict(
      '9',
      'no silent drops: injected replies parked/ignored as due, none applied, lag 0',
      problems.length === 0,
      `${sent} injected, ${sent - missed.length} accounted for; ${parkedRows.rows.length} parked (${strangers.length} not injected); applied injected ${appliedInjected.length}, reply ids applied twice ${appliedTwice.length}; lag ${JSON.stringify(quiet.lag)}`,
      problems,
    ),
    figures: {
      byKind,
      parked: parkedRows.rows.length,
      parkedInjected: parkedRows.rows.length - strangers.length,
    },
  };
}
