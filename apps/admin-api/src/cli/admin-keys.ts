import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '@sagaflow/config';
import {
  assertMigrated,
  createDataSource,
  describeUnreachable,
  withConnection,
  withTransaction,
} from '@sagaflow/persistence';
import { DataSource } from 'typeorm';
import { createKey, listKeys, revokeKey, USAGE, UsageError } from './admin-key-commands';

/**
 * `npm run admin-key -- create|revoke|list`: manage API keys from a shell, which is how the
 * first admin key comes to exist. `create` prints the raw key alone on stdout (details on
 * stderr), so `KEY=$(npm run -s admin-key -- create …)` works.
 */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      'saga-types': { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) throw new UsageError('a command is required');
  const operator = `cli:${userInfo().username}`;
  await withStore(async (dataSource) => {
    switch (command) {
      case 'create': {
        const { key, view } = await withTransaction(dataSource, (sql) =>
          createKey(sql, {
            name: values.name,
            role: values.role,
            sagaTypes: values['saga-types'],
            reason: values.reason,
            operator,
          }),
        );
        process.stderr.write(
          `created API key ${view.id} "${view.name}" (${view.role}); store it now, it is not shown again:\n`,
        );
        process.stdout.write(`${key}\n`);
        return;
      }
      case 'revoke': {
        const view = await withTransaction(dataSource, (sql) =>
          revokeKey(sql, { id: rest[0], reason: values.reason, operator }),
        );
        process.stdout.write(`revoked API key ${view.id} "${view.name}" at ${view.revokedAt}\n`);
        return;
      }
      case 'list': {
        const list = await withConnection(dataSource, (sql) => listKeys(sql));
        process.stdout.write(values.json ? `${JSON.stringify(list, null, 2)}\n` : table(list));
        return;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  });
}

async function withStore(work: (dataSource: DataSource) => Promise<void>): Promise<void> {
  const { databaseUrl } = loadConfig();
  const dataSource = createDataSource({
    url: databaseUrl,
    poolSize: 1,
    applicationName: 'sagaflow-admin-key',
  });
  await dataSource.initialize().catch((error: unknown) => {
    throw new Error(describeUnreachable(databaseUrl, error));
  });
  try {
    await assertMigrated(dataSource);
    await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

function table(list: Awaited<ReturnType<typeof listKeys>>): string {
  if (list.length === 0)
    return 'no API keys yet: create one with `npm run admin-key -- create --name <n> --role admin`\n';
  const lines = list.map((k) =>
    [
      k.id,
      k.role.padEnd(8),
      (k.revokedAt ? `revoked ${k.revokedAt}` : 'active').padEnd(32),
      k.lastUsedAt ?? 'never used',
      k.name,
    ].join('  '),
  );
  return `${lines.join('\n')}\n`;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`admin-key: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `admin-key failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
