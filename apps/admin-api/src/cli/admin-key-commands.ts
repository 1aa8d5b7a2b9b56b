import { Sql } from '@sagaflow/persistence';
import { AuditRecordRepository } from '../audit/audit-record.repository';
import { ApiKeyRepository, ApiKeyView } from '../auth/api-key.repository';
import { isRole, ROLES } from '../auth/principal';

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm run admin-key -- <command>
  create --name <name> --role <${ROLES.join('|')}> [--saga-types a,b] [--reason <why>]
                                                                      prints the raw key once
  revoke <id> [--reason <why>]                                        refuses the key at once
  list [--json]                                                       every key, never a secret`;

const keys = new ApiKeyRepository();
const audit = new AuditRecordRepository();

/**
 * The key changes the command line makes, each with its audit record in the same
 * transaction (principal null: the operator is identified by the OS user in `detail`).
 */
export async function createKey(
  sql: Sql,
  input: {
    name: string | undefined;
    role: string | undefined;
    sagaTypes?: string | undefined;
    reason: string | undefined;
    operator: string;
  },
): Promise<{ key: string; view: ApiKeyView }> {
  const sagaTypes = input.sagaTypes
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (sagaTypes?.some((t) => !/^[a-z][a-z0-9.-]{0,99}$/.test(t)))
    throw new UsageError('--saga-types must be saga names separated by commas, e.g. order,trip');
  if (!input.name || input.name.length > 100)
    throw new UsageError('--name is required (1 to 100 characters)');
  if (!isRole(input.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const created = await keys.create(sql, {
    name: input.name,
    role: input.role,
    createdBy: input.operator,
    sagaTypes: sagaTypes?.length ? sagaTypes : null,
  });
  await record(sql, 'create', 201, created.view, input);
  return created;
}

export async function revokeKey(
  sql: Sql,
  input: { id: string | undefined; reason: string | undefined; operator: string },
): Promise<ApiKeyView> {
  if (!input.id || !/^[0-9a-f]{16}$/.test(input.id)) {
    throw new UsageError('revoke needs the key id (16 hex digits, as `list` shows it)');
  }
  const view = await keys.revoke(sql, input.id, input.operator);
  if (!view) throw new UsageError(`no API key with id ${input.id}`);
  await record(sql, 'revoke', 200, view, input);
  return view;
}

export function listKeys(sql: Sql): Promise<ApiKeyView[]> {
  return keys.list(sql);
}

async function record(
  sql: Sql,
  command: 'create' | 'revoke',
  statusCode: number,
  view: ApiKeyView,
  input: { reason: string | undefined; operator: string },
): Promise<void> {
  await audit.insert(sql, {
    principalId: null,
    principalName: null,
    role: null,
    via: null,
    method: 'CLI',
    route: null,
    path: `admin-key ${command}`,
    sagaId: null,
    action: `api-key.${command}`,
    reason: input.reason ?? null,
    idempotencyKey: null,
    fingerprint: null,
    outcome: 'applied',
    statusCode,
    response: view,
    detail: { keyId: view.id, operator: input.operator },
  });
}
