import { Sql, withTransaction } from '@sagaflow/persistence';
import { DataSource } from 'typeorm';

/**
 * Runs reads in one read-only REPEATABLE READ transaction: several queries see one snapshot
 * (a saga's state, journal and timers agree), and a bug can never write through a read route.
 */
export function readOnly<T>(dataSource: DataSource, work: (sql: Sql) => Promise<T>): Promise<T> {
  return withTransaction(dataSource, async (sql) => {
    await sql.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return work(sql);
  });
}
