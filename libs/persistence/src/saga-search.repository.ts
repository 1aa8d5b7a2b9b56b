import { SAGA_STATUSES, SagaFailure, SagaStatus } from '@sagaflow/engine';
import { Sql } from './sql';

/** A step of one definition version: what a step name resolves to (the table stores indexes). */
export interface StepRef {
  readonly sagaType: string;
  readonly sagaVersion: number;
  readonly index: number;
}

/** Filters of a saga search; every one given must hold (AND). */
export interface SagaSearchCriteria {
  readonly sagaType?: string;
  readonly sagaVersion?: number;
  readonly statuses?: readonly SagaStatus[];
  /**
   * Sagas at one of these steps: the step being run or undone (running, compensating), or the
   * step a failed saga stopped at. An empty list matches nothing.
   */
  readonly steps?: readonly StepRef[];
  readonly businessKey?: string;
  /** Inclusive lower and exclusive upper bounds. */
  readonly createdFrom?: Date;
  readonly createdTo?: Date;
  readonly updatedFrom?: Date;
  readonly updatedTo?: Date;
  /** Active (running, compensating) and unchanged for longer than this. */
  readonly stuckForMs?: number;
  /** Active, and the deadline timer is overdue or has already fired. */
  readonly pastDeadline?: boolean;
}

export type SagaSortKey = 'createdAt' | 'updatedAt';
export type SortOrder = 'asc' | 'desc';

/**
 * Where a page ended: the last row's sort value (UTC, microseconds, as PostgreSQL stores it —
 * a JS Date would round to milliseconds and skip or repeat rows) and its id.
 */
export interface SagaPosition {
  readonly sortValue: string;
  readonly id: string;
}

export interface SagaPageRequest {
  readonly sort: SagaSortKey;
  readonly order: SortOrder;
  readonly limit: number;
  /** Continue after this row; null for the first page. */
  readonly after: SagaPosition | null;
}

/** One search result: the columns a list shows, never the data or the engine state. */
export interface SagaSummaryRecord {
  readonly id: string;
  readonly sagaType: string;
  readonly sagaVersion: number;
  readonly status: SagaStatus;
  readonly version: number;
  readonly businessKey: string | null;
  /** The step being run or undone, or where a failed saga stopped; null when none. */
  readonly stepIndex: number | null;
  readonly attempt: number | null;
  readonly lastError: SagaFailure | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SagaSearchPage {
  readonly items: readonly SagaSummaryRecord[];
  /** Where the next page starts; null on the last page. */
  readonly next: SagaPosition | null;
}

/** A timer armed for a saga, as the admin API shows it. */
export interface SagaTimerRecord {
  readonly key: string;
  /** `timedOut`, `retryDue` or `deadlineReached`, with the step, kind and attempt it is for. */
  readonly event: { readonly type: string } & Record<string, unknown>;
  readonly dueAt: Date;
  readonly overdue: boolean;
}

const SORT_COLUMNS: Record<SagaSortKey, string> = {
  createdAt: 's.created_at',
  updatedAt: 's.updated_at',
};

const ACTIVE = `s.status IN ('running', 'compensating')`;

/** Numbered query parameters, so clauses can be built in any order. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The WHERE clauses of a search over `saga_instance s`. Every value is a parameter; the SQL
 * around them is fixed, so no input reaches the text of the query.
 */
export function sagaSearchClauses(criteria: SagaSearchCriteria, params: SqlParams): string[] {
  const c = criteria;
  const where: string[] = [];
  if (c.sagaType !== undefined) where.push(`s.saga_type = ${params.add(c.sagaType)}`);
  if (c.sagaVersion !== undefined) where.push(`s.saga_version = ${params.add(c.sagaVersion)}`);
  if (c.statuses !== undefined) where.push(`s.status = ANY(${params.add(c.statuses)}::text[])`);
  if (c.steps !== undefined) where.push(stepClause(c.steps, params));
  if (c.businessKey !== undefined) where.push(`s.business_key = ${params.add(c.businessKey)}`);
  if (c.createdFrom) where.push(`s.created_at >= ${params.add(c.createdFrom)}::timestamptz`);
  if (c.createdTo) where.push(`s.created_at < ${params.add(c.createdTo)}::timestamptz`);
  if (c.updatedFrom) where.push(`s.updated_at >= ${params.add(c.updatedFrom)}::timestamptz`);
  if (c.updatedTo) where.push(`s.updated_at < ${params.add(c.updatedTo)}::timestamptz`);
  if (c.stuckForMs !== undefined) {
    const ms = params.add(c.stuckForMs);
    where.push(
      ACTIVE,
      `s.updated_at < now() - make_interval(secs => ${ms}::double precision / 1000)`,
    );
  }
  if (c.pastDeadline) where.push(ACTIVE, PAST_DEADLINE);
  return where;
}

/**
 * One equality triple per step reference (a name matches one index per definition version:
 * a handful), so the planner can use the (type, version, status, …) index and the partial
 * index of failed steps, ORed in a bitmap.
 */
function stepClause(steps: readonly StepRef[], params: SqlParams): string {
  if (steps.length === 0) return 'false';
  const match = (column: string) =>
    steps
      .map(
        (ref) =>
          `(s.saga_type = ${params.add(ref.sagaType)} AND s.saga_version = ${params.add(ref.sagaVersion)} AND ${column} = ${params.add(ref.index)})`,
      )
      .join(' OR ');
  return `((${ACTIVE} AND (${match('s.current_step')}))
        OR (s.status = 'failed' AND (${match("(s.state->>'failedStep')::integer")})))`;
}

/**
 * The deadline timer row exists until the deadline fires (overdue: no orchestrator fired it
 * yet); once it fired, the journal says so and the row is gone. Both sets are small and indexed.
 */
const PAST_DEADLINE = `s.id IN (
  SELECT t.saga_id FROM saga_timer t WHERE t.due_at <= now() AND t.event->>'type' = 'deadlineReached'
  UNION ALL
  SELECT j.saga_id FROM saga_journal j WHERE j.type = 'saga.deadlineReached')`;

const SUMMARY_COLUMNS = `s.id, s.saga_type, s.saga_version, s.status, s.version, s.business_key,
  CASE WHEN s.status = 'failed' THEN (s.state->>'failedStep')::integer ELSE s.current_step END AS step_index,
  s.attempt, s.last_error, s.created_at, s.updated_at`;

interface SummaryRow {
  id: string;
  saga_type: string;
  saga_version: number;
  status: SagaStatus;
  version: number;
  business_key: string | null;
  step_index: number | null;
  attempt: number | null;
  last_error: SagaFailure | null;
  created_at: Date;
  updated_at: Date;
  sort_value: string;
}

/** The admin API's saga search: filtered, keyset-paginated pages and counts by status. */
export class SagaSearchRepository {
  /**
   * One page, ordered by (sort column, id). Fetches `limit + 1` rows to know whether another
   * page follows without counting.
   */
  async page(
    sql: Sql,
    criteria: SagaSearchCriteria,
    page: SagaPageRequest,
  ): Promise<SagaSearchPage> {
    const params = new SqlParams();
    const where = sagaSearchClauses(criteria, params);
    const column = SORT_COLUMNS[page.sort];
    const direction = page.order === 'asc' ? 'ASC' : 'DESC';
    if (page.after) {
      const after = `(${params.add(page.after.sortValue)}::timestamptz, ${params.add(page.after.id)}::uuid)`;
      where.push(`(${column}, s.id) ${page.order === 'asc' ? '>' : '<'} ${after}`);
    }
    const rows = await sql.rows<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS},
              to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sort_value
         FROM saga_instance s
        ${where.length > 0 ? `WHERE ${where.join('\n          AND ')}` : ''}
        ORDER BY ${column} ${direction}, s.id ${direction}
        LIMIT ${params.add(page.limit + 1)}`,
      params.values,
    );
    const items = rows.slice(0, page.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toSummary),
      next: rows.length > page.limit && last ? { sortValue: last.sort_value, id: last.id } : null,
    };
  }

  /** The saga's armed timers, soonest first (for the detail view: deadline, pending timeouts). */
  async timers(sql: Sql, sagaId: string): Promise<SagaTimerRecord[]> {
    const rows = await sql.rows<{
      timer_key: string;
      event: SagaTimerRecord['event'];
      due_at: Date;
      overdue: boolean;
    }>(
      `SELECT timer_key, event, due_at, due_at <= now() AS overdue FROM saga_timer
        WHERE saga_id = $1 ORDER BY due_at, timer_key`,
      [sagaId],
    );
    return rows.map((r) => ({
      key: r.timer_key,
      event: r.event,
      dueAt: r.due_at,
      overdue: r.overdue,
    }));
  }

  /** How many sagas match, per status (every status present, zeros included). */
  async countByStatus(
    sql: Sql,
    criteria: Omit<SagaSearchCriteria, 'statuses'>,
  ): Promise<Record<SagaStatus, number>> {
    const params = new SqlParams();
    const where = sagaSearchClauses(criteria, params);
    const rows = await sql.rows<{ status: SagaStatus; n: number }>(
      `SELECT s.status, count(*)::integer AS n FROM saga_instance s
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        GROUP BY s.status`,
      params.values,
    );
    const counts = Object.fromEntries(SAGA_STATUSES.map((s) => [s, 0])) as Record<
      SagaStatus,
      number
    >;
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }
}

function toSummary(r: SummaryRow): SagaSummaryRecord {
  return {
    id: r.id,
    sagaType: r.saga_type,
    sagaVersion: r.saga_version,
    status: r.status,
    version: r.version,
    businessKey: r.business_key,
    stepIndex: r.step_index,
    attempt: r.attempt,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
