import { Sql } from '@sagaflow/persistence';
import { generateApiKey } from './api-key-secret';
import { Role } from './principal';

/** A key as operators see it: never the secret, never its hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** Null: every saga type. */
  readonly sagaTypes: readonly string[] | null;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  readonly lastUsedAt: string | null;
}

export interface StoredApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly secretHash: string;
  readonly revoked: boolean;
  readonly sagaTypes: readonly string[] | null;
}

interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  saga_types: string[] | null;
  created_at: Date;
  created_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
  last_used_at: Date | null;
}

const VIEW_COLUMNS =
  'id, name, role, saga_types, created_at, created_by, revoked_at, revoked_by, last_used_at';

/** The `api_key` table. Used by the API and by the `admin-key` command line. */
export class ApiKeyRepository {
  /** Stores a new key's hash and returns the raw key, which exists nowhere else. */
  async create(
    sql: Sql,
    input: { name: string; role: Role; createdBy: string; sagaTypes?: readonly string[] | null },
  ): Promise<{ key: string; view: ApiKeyView }> {
    const secret = generateApiKey();
    const [row] = await sql.rows<ApiKeyRow>(
      `INSERT INTO api_key (id, name, role, secret_hash, created_by, saga_types)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${VIEW_COLUMNS}`,
      [
        secret.id,
        input.name,
        input.role,
        secret.secretHash,
        input.createdBy,
        input.sagaTypes?.length ? [...input.sagaTypes] : null,
      ],
    );
    return { key: secret.key, view: toView(row!) };
  }

  async list(sql: Sql): Promise<ApiKeyView[]> {
    const rows = await sql.rows<ApiKeyRow>(
      `SELECT ${VIEW_COLUMNS} FROM api_key ORDER BY created_at, id`,
    );
    return rows.map(toView);
  }

  /** Revokes a live key; null when there is no such key. Revoking twice keeps the first time. */
  async revoke(sql: Sql, id: string, revokedBy: string): Promise<ApiKeyView | null> {
    await sql.exec(
      `UPDATE api_key SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL`,
      [id, revokedBy],
    );
    const [row] = await sql.rows<ApiKeyRow>(`SELECT ${VIEW_COLUMNS} FROM api_key WHERE id = $1`, [
      id,
    ]);
    return row ? toView(row) : null;
  }

  async findForAuthentication(sql: Sql, id: string): Promise<StoredApiKey | null> {
    const [row] = await sql.rows<{
      id: string;
      name: string;
      role: Role;
      secret_hash: string;
      revoked_at: Date | null;
      saga_types: string[] | null;
    }>(`SELECT id, name, role, secret_hash, revoked_at, saga_types FROM api_key WHERE id = $1`, [
      id,
    ]);
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      role: row.role,
      secretHash: row.secret_hash,
      revoked: row.revoked_at !== null,
      sagaTypes: row.saga_types,
    };
  }

  /** At most one write a minute per key: usage is a hint for cleaning up, not a log. */
  async touch(sql: Sql, id: string): Promise<void> {
    await sql.exec(
      `UPDATE api_key SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }
}

function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    sagaTypes: row.saga_types,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revokedBy: row.revoked_by,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}
