import { randomUUID } from 'node:crypto';
import { withTransaction } from '@sagaflow/persistence';
import { StartSaga } from '@sagaflow/runtime';
import {
  Access,
  ApiKeyService,
  POLICY,
  registeredRouteKeys,
  Role,
  roleAtLeast,
  unlistedRoutes,
} from '../../apps/admin-api/src/auth';
import {
  AdminApp,
  auditSince,
  exampleBody,
  lastAuditId,
  OpenApiDocument,
  requestTo,
  startAdminApi,
  storeSnapshot,
} from '../support/admin-app';
import { createMigratedStore, orderInput, TestStore } from '../support/fixtures';

/**
 * The authorization matrix, generated from the policy table: every route × every caller
 * (anonymous and each role). Targets are real (a running saga, a parked message, a spare
 * key) and bodies are the OpenAPI examples, so a guard that let a call through would change
 * the store; after every refusal the store must be exactly as before and, for a mutating
 * call, the refusal must be in the audit log.
 */
type Caller = 'anonymous' | Role;
const CALLERS: readonly Caller[] = ['anonymous', 'viewer', 'operator', 'admin'];
const ROUTES = Object.entries(POLICY) as Array<[string, Access]>;

let store: TestStore;
let admin: AdminApp;
let registered: Set<string>;
let openApi: OpenApiDocument;
const targets = { sagaId: '', parkedId: '', apiKeyId: '' };

beforeAll(async () => {
  store = await createMigratedStore({ prefix: 'sagaflow_authz' });
  admin = await startAdminApi({ databaseUrl: store.url });
  registered = new Set(registeredRouteKeys(admin.app.getHttpAdapter()));
  openApi = (await admin.http().get('/docs-json').set('X-API-Key', admin.keys.viewer).expect(200))
    .body as OpenApiDocument;
  const input = orderInput();
  const { instance } = await admin.app.get(StartSaga).execute({
    sagaType: 'order',
    input,
    idempotencyKey: `authz-${input.orderId}`,
    businessKey: input.orderId,
    actor: 'test',
  });
  targets.sagaId = instance.id;
  const [parked] = await store.dataSource.query(
    `INSERT INTO parked_message (topic, body, reason_code, reason, saga_id)
     VALUES ('t.sagaflow.replies', '{}', 'malformed-reply', 'authz matrix target', $1) RETURNING id`,
    [instance.id],
  );
  targets.parkedId = String(parked.id);
  targets.apiKeyId = await withTransaction(store.dataSource, async (sql) => {
    const created = await admin.app
      .get(ApiKeyService)
      .repository.create(sql, { name: 'authz-target', role: 'viewer', createdBy: 'test' });
    return created.view.id;
  });
});

afterAll(async () => {
  const unbuilt = ROUTES.map(([key]) => key).filter((key) => !registered?.has(key));
  if (unbuilt.length > 0) {
    process.stderr.write(
      `authz matrix: in the policy table but not registered yet (checked as 404 for everyone): ${unbuilt.join(', ')}\n`,
    );
  }
  await admin?.close();
  await store?.close();
});

it('lists every route the app registers in the policy table', () => {
  expect(unlistedRoutes(admin.app.getHttpAdapter())).toEqual([]);
});

describe.each(ROUTES)('%s (%s)', (key, access) => {
  const [method, routePath] = key.split(' ') as [string, string];

  it.each(CALLERS)('as %s', async (caller) => {
    const allowed =
      access === 'public' || (caller !== 'anonymous' && roleAtLeast(caller, access as Role));
    const before = await storeSnapshot(store.dataSource);
    const auditBefore = await lastAuditId(store.dataSource);
    const res = await send(method, routePath, caller);

    expect(res.status).toBeLessThan(500);
    if (!registered.has(key)) {
      expect(res.status).toBe(404);
      return;
    }
    if (allowed) {
      expect([401, 403]).not.toContain(res.status);
      return;
    }
    expect(res.status).toBe(caller === 'anonymous' ? 401 : 403);
    expect(res.body.code).toBe(caller === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    if (caller !== 'anonymous') expect(res.body.message).toContain(`needs the ${access} role`);
    expect(await storeSnapshot(store.dataSource)).toBe(before);
    const audited = await auditSince(store.dataSource, auditBefore);
    if (method === 'GET') {
      expect(audited).toEqual([]);
    } else {
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({
        outcome: 'denied',
        status_code: res.status,
        route: routePath,
        principal_id: caller === 'anonymous' ? null : expect.stringMatching(/^key:/),
        role: caller === 'anonymous' ? null : caller,
      });
    }
  });
});

function send(method: string, routePath: string, caller: Caller) {
  const path = routePath
    .replace(/^\/sagas\/:id/, `/sagas/${targets.sagaId}`)
    .replace(/^\/parked-messages\/:id/, `/parked-messages/${targets.parkedId}`)
    .replace(/^\/api-keys\/:id/, `/api-keys/${targets.apiKeyId}`)
    .replace(':name', 'order')
    .replace(':version', '1')
    .replace(/:[a-zA-Z]+/g, randomUUID());
  const req = requestTo(admin, method, path).set('Idempotency-Key', `authz-${randomUUID()}`);
  if (caller !== 'anonymous') req.set('X-API-Key', admin.keys[caller]);
  return method === 'GET' ? req : req.send(exampleBody(openApi, method, routePath));
}
