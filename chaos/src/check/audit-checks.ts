import { Pool } from 'pg';
import { RequestRecord } from '../driver/admin-client';
import { OperatorLine } from './snapshot';
import { verdict, Verdict } from './verdict';

interface AuditRow {
  readonly key: string | null;
  readonly column_key: string | null;
  readonly principal_id: string | null;
  readonly outcome: string;
  readonly status_code: number;
}

const OUTCOME_OF = (status: number) =>
  status < 400
    ? 'applied'
    : [401, 403, 429].includes(status)
      ? 'denied'
      : status < 500
        ? 'rejected'
        : 'failed';

/**
 * 10. Audit: every mutating request the harness sent has one audit record — exactly one when
 * it was answered, none when the connection was refused, zero or one when the admin API died
 * under it — with the outcome its status says; and no record that no request explains.
 * A record is matched to its request by the Idempotency-Key it carries (the column, or
 * `detail.idempotencyKey`); requests that share a key on purpose, and the attempts of one
 * saga start (recorded under the start's key), are matched as a group.
 */
export async function auditMatchesRequests(
  pool: Pool,
  requests: readonly RequestRecord[],
  databaseAway: ReadonlyArray<{ from: number; to: number }>,
): Promise<Verdict> {
  // The audit log lives in the database: a request answered 5xx while the run's database was
  // cut cannot have been recorded. Counted apart, not as a failure (see the chaos docs).
  const whileAway = (q: RequestRecord) =>
    q.status !== null &&
    q.status >= 500 &&
    databaseAway.some((w) => q.sentAt >= w.from - 1000 && q.sentAt <= w.to + 5000);
  const { rows } = await pool.query<AuditRow>(
    `SELECT coalesce(idempotency_key, detail->>'idempotencyKey') AS key, idempotency_key AS column_key,
            principal_id, outcome, status_code
       FROM audit_record WHERE method <> 'CLI'`,
  );
  const groups = new Map<string, RequestRecord[]>();
  const groupOf = new Map<string, string>();
  for (const q of requests) {
    groups.set(q.auditGroup, [...(groups.get(q.auditGroup) ?? []), q]);
    groupOf.set(q.idempotencyKey, q.auditGroup);
    groupOf.set(q.auditGroup, q.auditGroup);
  }
  const records = new Map<string, AuditRow[]>();
  const strangers: AuditRow[] = [];
  for (const r of rows) {
    const group = r.key === null ? undefined : groupOf.get(r.key);
    if (group === undefined) strangers.push(r);
    else records.set(group, [...(records.get(group) ?? []), r]);
  }
  const problems: unknown[] = [];
  let unauditable = 0;
  for (const [group, sent] of groups) {
    const found = records.get(group) ?? [];
    const answered = sent.filter((q) => q.fate === 'responded');
    const unknown = sent.filter((q) => q.fate === 'unknown').length;
    const excused = answered.filter(whileAway).length;
    if (found.length < answered.length && found.length >= answered.length - excused) {
      unauditable += answered.length - found.length;
      continue;
    }
    if (found.length < answered.length || found.length > answered.length + unknown)
      problems.push({ group, answered: answered.length, unknown, records: found.length });
    else if (sent.length === 1 && answered.length === 1 && found.length === 1) {
      const want = OUTCOME_OF(answered[0]!.status!);
      if (found[0]!.outcome !== want || found[0]!.status_code !== answered[0]!.status)
        problems.push({ group, status: answered[0]!.status, audited: found[0] });
    }
  }
  if (strangers.length > 0) problems.push({ recordsNoRequestExplains: strangers.slice(0, 5) });
  const answered = requests.filter((q) => q.fate === 'responded').length;
  const unknown = requests.filter((q) => q.fate === 'unknown').length;
  return verdict(
    '10',
    'audit: one record per mutating request, allowed or denied',
    problems.length === 0,
    `${requests.length} mutating requests (${answered} answered, ${unknown} cut off, ${requests.length - answered - unknown} refused), ${rows.length} audit records; ${unauditable} answered 5xx while the database was cut have none`,
    problems,
  );
}

/**
 * 10b (ours). Operator actions applied once per Idempotency-Key: each key's `operator.action`
 * journal lines (the key is in the reason) equal its `applied` audit records with the key, and
 * no principal has two applied records for one key. A repeat is a replay, never a second
 * transition; an action and its audit record commit together or not at all.
 */
export async function operatorActionsOnce(
  pool: Pool,
  lines: readonly OperatorLine[],
): Promise<Verdict> {
  const { rows } = await pool.query<{ key: string; principal_id: string; n: number }>(
    `SELECT idempotency_key AS key, principal_id, count(*)::int AS n FROM audit_record
      WHERE outcome = 'applied' AND idempotency_key IS NOT NULL AND route LIKE '/sagas/:id/%'
      GROUP BY 1, 2`,
  );
  const applied = new Map<string, number>();
  const problems: unknown[] = [];
  for (const r of rows) {
    applied.set(r.key, (applied.get(r.key) ?? 0) + r.n);
    if (r.n > 1) problems.push({ key: r.key, principal: r.principal_id, appliedRecords: r.n });
  }
  const journaled = new Map<string, number>();
  for (const line of lines) {
    const key = /key=(\S+)/.exec(line.reason)?.[1];
    if (key) journaled.set(key, (journaled.get(key) ?? 0) + 1);
    else problems.push({ operatorLineWithoutKey: line });
  }
  for (const key of new Set([...applied.keys(), ...journaled.keys()]))
    if ((applied.get(key) ?? 0) !== (journaled.get(key) ?? 0))
      problems.push({
        key,
        appliedRecords: applied.get(key) ?? 0,
        journalLines: journaled.get(key) ?? 0,
      });
  return verdict(
    '10b',
    'operator actions applied once per idempotency key, with their audit record',
    problems.length === 0,
    `${lines.length} actions applied (journal), ${[...applied.values()].reduce((a, b) => a + b, 0)} applied records with a key`,
    problems,
  );
}
