import { DataSource, QueryRunner } from 'typeorm';

/** The little the repositories need from a connection: rows back, or a count of rows touched. */
export interface Sql {
  rows<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  exec(text: string, params?: readonly unknown[]): Promise<number>;
}

export function sqlOf(runner: QueryRunner): Sql {
  return {
    async rows<T>(text: string, params: readonly unknown[] = []) {
      const result = await runner.query(text, [...params], true);
      return result.records as T[];
    },
    async exec(text: string, params: readonly unknown[] = []) {
      const result = await runner.query(text, [...params], true);
      return result.affected ?? result.records.length;
    },
  };
}

/**
 * Runs `work` in one transaction on its own connection; rolls back if it throws.
 *
 * @example
 * await withTransaction(dataSource, async (sql) => { await instances.insert(sql, next); });
 */
export async function withTransaction<T>(
  dataSource: DataSource,
  work: (sql: Sql) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const result = await work(sqlOf(runner));
    await runner.commitTransaction();
    return result;
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await runner.release();
  }
}

/** Runs `work` outside a transaction (single statements, reads). */
export async function withConnection<T>(
  dataSource: DataSource,
  work: (sql: Sql) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    return await work(sqlOf(runner));
  } finally {
    await runner.release();
  }
}
