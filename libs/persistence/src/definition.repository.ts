import { createHash } from 'node:crypto';
import { CompiledSaga } from '@sagaflow/saga-dsl';
import { DefinitionConflictError } from './persistence-errors';
import { Sql } from './sql';

/** Stores each compiled definition version once; a changed graph under an old version is refused. */
export class DefinitionRepository {
  async register(sql: Sql, compiled: CompiledSaga): Promise<void> {
    const hash = definitionHash(compiled);
    await sql.exec(
      `INSERT INTO saga_definition (name, version, hash, compiled) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name, version) DO NOTHING`,
      [compiled.name, compiled.version, hash, JSON.stringify(compiled)],
    );
    const stored = await sql.rows<{ hash: string }>(
      `SELECT hash FROM saga_definition WHERE name = $1 AND version = $2`,
      [compiled.name, compiled.version],
    );
    if (stored[0]?.hash !== hash)
      throw new DefinitionConflictError(compiled.name, compiled.version);
  }

  /** Every version ever registered in this store (by any build), by name then version. */
  async list(sql: Sql): Promise<StoredDefinition[]> {
    const rows = await sql.rows<{
      name: string;
      version: number;
      hash: string;
      compiled: CompiledSaga;
      registered_at: Date;
    }>(
      `SELECT name, version, hash, compiled, registered_at FROM saga_definition ORDER BY name, version`,
    );
    return rows.map((r) => ({
      name: r.name,
      version: r.version,
      hash: r.hash,
      compiled: r.compiled,
      registeredAt: r.registered_at,
    }));
  }

  /**
   * Live instances (running, compensating, failed: the ones a version cannot be removed under)
   * per definition version, as `name@version` → count; versions without any are absent.
   */
  async liveInstanceCounts(sql: Sql): Promise<Map<string, number>> {
    const rows = await sql.rows<{ saga_type: string; saga_version: number; n: number }>(
      `SELECT saga_type, saga_version, count(*)::integer AS n FROM saga_instance
        WHERE status IN ('running', 'compensating', 'failed')
        GROUP BY saga_type, saga_version`,
    );
    return new Map(rows.map((r) => [`${r.saga_type}@${r.saga_version}`, r.n]));
  }
}

/** A definition version as stored in `saga_definition`. */
export interface StoredDefinition {
  readonly name: string;
  readonly version: number;
  readonly hash: string;
  readonly compiled: CompiledSaga;
  readonly registeredAt: Date;
}

/**
 * A stable hash of the step graph (keys sorted), so formatting changes do not count. How a saga
 * is started (`startOn`) is deployment wiring, not the graph its instances run: it is left out,
 * so adding a start event does not force a new version.
 */
export function definitionHash(compiled: CompiledSaga): string {
  const { startOn: _wiring, ...graph } = compiled as CompiledSaga & { startOn?: unknown };
  return createHash('sha256').update(stableJson(graph)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
