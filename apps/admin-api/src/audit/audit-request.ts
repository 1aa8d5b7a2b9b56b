import { Request } from 'express';
import { routeKey } from '../auth/policy';
import { AuditRecordInput } from './audit-record';

const SAGA_PATH =
  /^\/sagas\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/i;

type RequestFields = Pick<
  AuditRecordInput,
  'principalId' | 'principalName' | 'role' | 'via' | 'method' | 'route' | 'path' | 'sagaId'
>;

/** What the audit knows about any request: who (if known), which route, which saga. */
export function requestFields(req: Request): RequestFields {
  const principal = req.principal ?? null;
  const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
  return {
    principalId: principal?.id ?? null,
    principalName: principal ? clean(principal.name, 200) : null,
    role: principal?.role ?? null,
    via: principal?.via ?? null,
    method: req.method,
    route: typeof routePath === 'string' ? routePath : null,
    // The path, never the query string: a query may carry anything the caller typed.
    path: clean(req.path, 2000),
    // The `:id` of /sagas/:id/... when it is a UUID; anything else names no saga.
    sagaId: SAGA_PATH.exec(req.path)?.[1]?.toLowerCase() ?? null,
  };
}

/** The action name the safety net records: the policy key of the route, e.g. `POST /sagas/:id/retry`. */
export function defaultAction(req: Request): string {
  const fields = requestFields(req);
  return fields.route ? routeKey(req.method, fields.route) : `${req.method} (no route)`;
}

/** The `Idempotency-Key` header, if sent (bounded: the column is not a dumping ground). */
export function idempotencyHeader(req: Request): string | null {
  const value = req.headers['idempotency-key'];
  const key = Array.isArray(value) ? value[0] : value;
  return key ? clean(key, 200) : null;
}

/** PostgreSQL text cannot hold NUL; long values are cut, not refused (the audit must be written). */
function clean(value: string, max: number): string {
  return value.replaceAll('\u0000', '').slice(0, max);
}
