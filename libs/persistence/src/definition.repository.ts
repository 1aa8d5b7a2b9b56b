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
