import { Sql } from '@sagaflow/persistence';
import { Role } from '../auth/principal';
import { AuditOutcome, AuditRecordInput, AuditRecordView } from './audit-record';

interface AuditRow {
  id: string;
  recorded_at: Date;
  principal_id: string | null;
  principal_name: string | null;
  role: Role | null;
  via: 'api-key' | 'jwt' | null;
  method: string;
  route: string | null;
  path: string;
  saga_id: string | null;
  action: string;
  reason: string | null;
  idempotency_key: string | null;
  outcome: AuditOutcome;
  status_code: number;
  response: unknown;
  detail: Record<string, unknown>;
}

export interface AuditFilter {
  readonly sagaId?: string;
  readonly principalId?: string;
  readonly outcome?: AuditOutcome;
  readonly since?: Date;
  /** Keyset pagination: records with a larger id. */
  readonly after?: string;
  readonly limit: number;
}

const COLUMNS = `id, recorded_at, principal_id, principal_name, role, via, method, route, path,
  saga_id, action, reason, idempotency_key, outcome, status_code, response, detail`;

/** The `audit_record` table: append-only, read by saga, by filter, or by idempotency key. */
export class AuditRecordRepository {
  async insert(sql: Sql, r: AuditRecordInput): Promise<string> {
    const [row] = await sql.rows<{ id: string }>(
      `INSERT INTO audit_record (principal_id, principal_name, role, via, method, route, path,
         saga_id, action, reason, idempotency_key, request_fingerprint, outcome, status_code,
         response, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16::jsonb)
       RETURNING id`,
      [
        r.principalId,
        r.principalName,
        r.role,
        r.via,
        r.method,
        r.route,
        r.path,
        r.sagaId,
        r.action,
        r.reason,
        r.idempotencyKey,
        r.fingerprint,
        r.outcome,
        r.statusCode,
        r.response === undefined ? null : JSON.stringify(r.response),
        JSON.stringify(r.detail),
      ],
    );
    return String(row!.id);
  }

  async exists(sql: Sql, id: string): Promise<boolean> {
    return (await sql.rows(`SELECT 1 FROM audit_record WHERE id = $1`, [id])).length > 0;
  }

  async findApplied(
    sql: Sql,
    principalId: string,
    idempotencyKey: string,
  ): Promise<{ fingerprint: string | null; statusCode: number; response: unknown } | null> {
    const [row] = await sql.rows<{
      request_fingerprint: string | null;
      status_code: number;
      response: unknown;
    }>(
      `SELECT request_fingerprint, status_code, response FROM audit_record
        WHERE principal_id = $1 AND idempotency_key = $2 AND outcome = 'applied'`,
      [principalId, idempotencyKey],
    );
    return row
      ? {
          fingerprint: row.request_fingerprint,
          statusCode: row.status_code,
          response: row.response,
        }
      : null;
  }

  async bySaga(sql: Sql, sagaId: string): Promise<AuditRecordView[]> {
    const rows = await sql.rows<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_record WHERE saga_id = $1 ORDER BY id`,
      [sagaId],
    );
    return rows.map(toView);
  }

  async list(sql: Sql, filter: AuditFilter): Promise<AuditRecordView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (filter.sagaId) add('saga_id = ?', filter.sagaId);
    if (filter.principalId) add('principal_id = ?', filter.principalId);
    if (filter.outcome) add('outcome = ?', filter.outcome);
    if (filter.since) add('recorded_at >= ?', filter.since);
    if (filter.after) add('id > ?', filter.after);
    params.push(filter.limit);
    const rows = await sql.rows<AuditRow>(
      `SELECT ${COLUMNS} FROM audit_record
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toView);
  }
}

function toView(row: AuditRow): AuditRecordView {
  return {
    id: String(row.id),
    recordedAt: row.recorded_at.toISOString(),
    principal:
      row.principal_id && row.role && row.via
        ? { id: row.principal_id, name: row.principal_name, role: row.role, via: row.via }
        : null,
    method: row.method,
    route: row.route,
    path: row.path,
    sagaId: row.saga_id,
    action: row.action,
    reason: row.reason,
    idempotencyKey: row.idempotency_key,
    outcome: row.outcome,
    statusCode: row.status_code,
    response: row.response,
    detail: row.detail,
  };
}
