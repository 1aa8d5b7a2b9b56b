import { Role } from './principal';

/** Who may call a route: anyone, or a principal with at least this role. */
export type Access = 'public' | Role;

/**
 * The one access table of the admin API: `"<METHOD> <express route path>"` → access. A route
 * that is not listed is refused to everyone (fail closed), and a test fails when a registered
 * route is missing here. Adding a route means adding its line.
 */
export const POLICY: Readonly<Record<string, Access>> = {
  'GET /health': 'public',
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'public',

  'GET /sagas': 'viewer',
  'GET /sagas/counts': 'viewer',
  'GET /sagas/:id': 'viewer',
  'GET /definitions': 'viewer',
  'GET /definitions/:name/:version': 'viewer',
  'GET /parked-messages': 'viewer',
  'GET /parked-messages/:id': 'viewer',
  'GET /docs': 'viewer',
  'GET /docs-json': 'viewer',

  'POST /sagas': 'operator',
  'POST /sagas/:id/retry': 'operator',
  'POST /sagas/:id/compensate': 'operator',
  'POST /sagas/:id/cancel': 'operator',
  'POST /sagas/:id/resume': 'operator',
  'POST /sagas/:id/skip': 'operator',
  'POST /sagas/:id/mark-compensated': 'operator',
  'POST /sagas/bulk/retry': 'operator',
  'POST /sagas/bulk/compensate': 'operator',
  'POST /sagas/bulk/cancel': 'operator',
  'POST /parked-messages/:id/replay': 'operator',
  'POST /parked-messages/:id/discard': 'operator',

  'GET /api-keys': 'admin',
  'POST /api-keys': 'admin',
  'DELETE /api-keys/:id': 'admin',
  'GET /audit-records': 'admin',
};

/** Routes never rate limited: probes and scrapers must always get through. */
export const UNLIMITED_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
]);

/** The table key of a request; HEAD is answered by the GET route, so it shares its access. */
export function routeKey(method: string, routePath: string): string {
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return `${verb} ${routePath}`;
}

/** The access a route needs; `undefined` means it is not in the table, which denies it. */
export function accessFor(key: string): Access | undefined {
  return Object.prototype.hasOwnProperty.call(POLICY, key) ? POLICY[key] : undefined;
}

/** The methods that change state: every such request leaves one audit record. */
export function isMutating(method: string): boolean {
  return ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method.toUpperCase());
}
