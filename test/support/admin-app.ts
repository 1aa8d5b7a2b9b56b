import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { withTransaction } from '@sagaflow/persistence';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AdminApiModule } from '../../apps/admin-api/src/admin-api.module';
import { ApiKeyService } from '../../apps/admin-api/src/auth/api-key.service';
import { Role } from '../../apps/admin-api/src/auth/principal';
import { configureApp } from '../../apps/admin-api/src/configure-app';
import { KAFKA_BROKERS } from './infrastructure';

/** The admin API running in this process, with one API key per role. */
export interface AdminApp {
  /** The in-process NestJS app, configured by configureApp() like main.ts does. */
  readonly app: INestApplication;
  /** supertest bound to the app's HTTP server. */
  readonly http: () => ReturnType<typeof request>;
  /** Raw API keys, one per role; send as `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
  readonly keys: Readonly<Record<Role, string>>;
  readonly databaseUrl: string;
  /** Closes the app (its pool and Redis connection); the database is the caller's. */
  close(): Promise<void>;
}

export interface StartAdminApiOptions {
  /** A database already migrated (see createMigratedStore). */
  readonly databaseUrl: string;
  readonly topicPrefix?: string;
  /** More environment (rate limits, JWT settings…); wins over the defaults below. */
  readonly env?: Record<string, string>;
}

/**
 * Settings every test app starts from. Rate limits are generous so tests that fire many
 * requests are not throttled by accident; a test of the limits sets its own. JWT is off and
 * the docs are protected unless a test says otherwise (set, not inherited from an earlier app).
 */
const TEST_ENV: Record<string, string> = {
  SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE: '1000000',
  SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
  SAGAFLOW_DOCS_PUBLIC: 'false',
  SAGAFLOW_JWT_ISSUER: '',
  SAGAFLOW_JWT_JWKS_URL: '',
  SAGAFLOW_JWT_AUDIENCE: '',
  SAGAFLOW_JWT_ROLE_CLAIM: '',
  SAGAFLOW_DB_POOL_SIZE: '4',
};

/**
 * Boots AdminApiModule in-process against `databaseUrl`. The environment is set before the
 * module compiles, because the providers read it once when they are created.
 *
 * @example
 * const store = await createMigratedStore();
 * const admin = await startAdminApi({ databaseUrl: store.url });
 * await admin.http().get('/sagas').set('X-API-Key', admin.keys.viewer).expect(200);
 */
export async function startAdminApi(options: StartAdminApiOptions): Promise<AdminApp> {
  Object.assign(process.env, {
    ...TEST_ENV,
    DATABASE_URL: options.databaseUrl,
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    SAGAFLOW_TOPIC_PREFIX: options.topicPrefix ?? '',
    ...options.env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AdminApiModule] }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({
    logger: ['error', 'warn'],
  });
  try {
    configureApp(app);
    await app.init();
    const keys = await createRoleKeys(app);
    return {
      app,
      http: () => request(app.getHttpServer()),
      keys,
      databaseUrl: options.databaseUrl,
      close: () => app.close(),
    };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}

/** A request by method name (`GET`, `POST`…), for tests generated from the policy table. */
export function requestTo(
  admin: AdminApp,
  method: string,
  path: string,
): ReturnType<ReturnType<typeof request>['get']> {
  const agent = admin.http();
  const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  return agent[verb](path);
}

async function createRoleKeys(app: INestApplication): Promise<Record<Role, string>> {
  const service = app.get(ApiKeyService);
  return withTransaction(app.get(DataSource), async (sql) => {
    const make = async (role: Role) =>
      (await service.repository.create(sql, { name: `test-${role}`, role, createdBy: 'test' })).key;
    return {
      viewer: await make('viewer'),
      operator: await make('operator'),
      admin: await make('admin'),
    };
  });
}

// ------------------------------------------------------------------ store and audit checks

/**
 * A fingerprint of everything an operator call could change: if it is equal before and after
 * a refused request, the request changed nothing. `api_key.last_used_at` is left out: it is a
 * usage hint written while authenticating, before any decision.
 */
export async function storeSnapshot(dataSource: DataSource): Promise<string> {
  const queries = [
    `SELECT * FROM saga_instance`,
    `SELECT * FROM saga_journal`,
    `SELECT * FROM outbox_message`,
    `SELECT * FROM parked_message`,
    `SELECT id, name, role, secret_hash, created_at, created_by, revoked_at, revoked_by FROM api_key`,
  ];
  const hash = createHash('sha256');
  for (const query of queries) {
    const [row] = await dataSource.query(
      `SELECT coalesce(string_agg(t::text, '|' ORDER BY t::text), '') AS rows FROM (${query}) AS t`,
    );
    hash.update(`${query}\n${row.rows}\n`);
  }
  return hash.digest('hex');
}

export interface AuditRow {
  id: string;
  principal_id: string | null;
  principal_name: string | null;
  role: string | null;
  via: string | null;
  method: string;
  route: string | null;
  path: string;
  saga_id: string | null;
  action: string;
  reason: string | null;
  idempotency_key: string | null;
  outcome: string;
  status_code: number;
  response: unknown;
  detail: Record<string, unknown>;
}

/** Audit records written after `afterId`, oldest first. */
export async function auditSince(dataSource: DataSource, afterId: string): Promise<AuditRow[]> {
  const rows: AuditRow[] = await dataSource.query(
    `SELECT * FROM audit_record WHERE id > $1 ORDER BY id`,
    [afterId],
  );
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

/** The id of the latest audit record ('0' when there is none), to read what a request adds. */
export async function lastAuditId(dataSource: DataSource): Promise<string> {
  const [row] = await dataSource.query(`SELECT coalesce(max(id), 0)::text AS id FROM audit_record`);
  return row.id;
}

// ------------------------------------------------------------------ the OpenAPI document as test data

/** The parts of the admin API's OpenAPI document the generated tests read. */
export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  allOf?: OpenApiSchema[];
}

export interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; schema?: OpenApiSchema }>;
  requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** The operation of `"<METHOD> <express path>"`, e.g. `POST /sagas/:id/retry`. */
export function operationOf(
  doc: OpenApiDocument,
  method: string,
  routePath: string,
): OpenApiOperation | undefined {
  const path = routePath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return doc.paths[path]?.[method.toLowerCase()];
}

/** A schema with `$ref` and `allOf` resolved to one object schema. */
export function resolveSchema(doc: OpenApiDocument, schema: OpenApiSchema): OpenApiSchema {
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()!;
    return resolveSchema(doc, doc.components?.schemas?.[name] ?? {});
  }
  if (!schema.allOf) return schema;
  const parts = schema.allOf.map((s) => resolveSchema(doc, s));
  return {
    ...schema,
    type: 'object',
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {}), schema.properties),
    required: parts.flatMap((p) => p.required ?? []).concat(schema.required ?? []),
  };
}

/** The JSON request body schema of an operation, resolved; undefined when it takes none. */
export function requestSchema(
  doc: OpenApiDocument,
  method: string,
  routePath: string,
): OpenApiSchema | undefined {
  const schema = operationOf(doc, method, routePath)?.requestBody?.content?.['application/json']
    ?.schema;
  return schema ? resolveSchema(doc, schema) : undefined;
}

/** A plausible value for a schema: its example, else the first enum value, else one by type. */
export function exampleValue(doc: OpenApiDocument, raw: OpenApiSchema, depth = 0): unknown {
  const schema = resolveSchema(doc, raw);
  if (schema.example !== undefined) return schema.example;
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return depth > 3 || !schema.items ? [] : [exampleValue(doc, schema.items, depth + 1)];
    case 'object':
      return depth > 3 ? {} : exampleObject(doc, schema, depth + 1);
    default:
      if (schema.format === 'uuid') return '00000000-0000-4000-8000-000000000000';
      if (schema.format === 'date-time') return new Date().toISOString();
      return 'authz matrix check'.slice(0, schema.maxLength ?? 100);
  }
}

function exampleObject(doc: OpenApiDocument, schema: OpenApiSchema, depth: number): object {
  return Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, s]) => [name, exampleValue(doc, s, depth)]),
  );
}

/** A body built from the operation's documented examples ({} when it documents none). */
export function exampleBody(
  doc: OpenApiDocument,
  method: string,
  routePath: string,
): Record<string, unknown> {
  const schema = requestSchema(doc, method, routePath);
  return schema ? (exampleObject(doc, schema, 0) as Record<string, unknown>) : {};
}
