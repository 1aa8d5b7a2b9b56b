import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withTransaction } from '@sagaflow/persistence';
import { Request } from 'express';
import { CryptoKey, exportJWK, generateKeyPair, JWTPayload, SignJWT } from 'jose';
import { AuditLog, requestFingerprint } from '../../apps/admin-api/src/audit';
import { Principal } from '../../apps/admin-api/src/auth';
import { JwtVerifier } from '../../apps/admin-api/src/auth/jwt-verifier';
import { ApiError } from '../../apps/admin-api/src/errors';
import { AdminApp, auditSince, lastAuditId, startAdminApi } from '../support/admin-app';
import { createMigratedStore, orderInput, TestStore } from '../support/fixtures';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'apps', 'admin-api', 'src', 'cli', 'admin-keys.js');

let store: TestStore;
let admin: AdminApp;

beforeAll(async () => {
  store = await createMigratedStore({ prefix: 'sagaflow_security' });
  admin = await startAdminApi({ databaseUrl: store.url });
});

afterAll(async () => {
  await admin?.close();
  await store?.close();
});

const keyId = (key: string) => key.split('_')[1]!;

describe('API keys', () => {
  it('are created over HTTP by an admin, work at once, are stored only as a hash, and are refused at once when revoked', async () => {
    const created = await admin
      .http()
      .post('/api-keys')
      .set('X-API-Key', admin.keys.admin)
      .send({ name: 'on-call', role: 'operator', reason: 'new on-call rota' })
      .expect(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^sfk_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(created.body).toMatchObject({
      id: keyId(key),
      name: 'on-call',
      role: 'operator',
      revokedAt: null,
    });
    expect(created.body.createdBy).toMatch(/^key:/);

    // Usable at once, with either header.
    await admin
      .http()
      .get(`/sagas/${randomUUID()}`)
      .set('Authorization', `Bearer ${key}`)
      .expect(404);
    await admin.http().get(`/sagas/${randomUUID()}`).set('X-API-Key', key).expect(404);

    // Hashed at rest: neither the key nor its secret is anywhere in the table.
    const rows: Array<{ row: string; secret_hash: string }> = await store.dataSource.query(
      `SELECT t::text AS row, secret_hash FROM api_key t WHERE id = $1`,
      [keyId(key)],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).not.toContain(key.split('_')[2]!);
    expect(rows[0]!.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    // Listed without any secret.
    const list = await admin.http().get('/api-keys').set('X-API-Key', admin.keys.admin).expect(200);
    const listed = list.body.items.find((k: { id: string }) => k.id === keyId(key));
    expect(Object.keys(listed).sort()).toEqual(
      [
        'createdAt',
        'createdBy',
        'id',
        'lastUsedAt',
        'name',
        'revokedAt',
        'revokedBy',
        'role',
        'sagaTypes',
      ].sort(),
    );
    expect(listed.lastUsedAt).not.toBeNull();

    const revoked = await admin
      .http()
      .delete(`/api-keys/${keyId(key)}?reason=rota%20ended`)
      .set('X-API-Key', admin.keys.admin)
      .expect(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    const refused = await admin
      .http()
      .get(`/sagas/${randomUUID()}`)
      .set('X-API-Key', key)
      .expect(401);
    expect(refused.body).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringContaining('revoked'),
    });

    // Revoking again keeps the first revocation; the reason may come in the body.
    const again = await admin
      .http()
      .delete(`/api-keys/${keyId(key)}`)
      .set('X-API-Key', admin.keys.admin)
      .send({ reason: 'double check' })
      .expect(200);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
  });

  it('refuses bad key requests with a clear 4xx', async () => {
    const asAdmin = (r: ReturnType<ReturnType<AdminApp['http']>['get']>) =>
      r.set('X-API-Key', admin.keys.admin);
    const missingReason = await asAdmin(admin.http().delete(`/api-keys/${'0'.repeat(16)}`)).expect(
      400,
    );
    expect(missingReason.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'reason' }],
    });
    await asAdmin(admin.http().delete(`/api-keys/not-an-id?reason=x`)).expect(400);
    const unknown = await asAdmin(
      admin.http().delete(`/api-keys/${'0'.repeat(16)}?reason=x`),
    ).expect(404);
    expect(unknown.body.code).toBe('NOT_FOUND');
    const invalid = await asAdmin(admin.http().post('/api-keys'))
      .send({ name: '', role: 'boss', reason: 'x', extra: 1 })
      .expect(400);
    expect(invalid.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'extra',
      'name',
      'role',
    ]);
    const asOperator = await admin
      .http()
      .post('/api-keys')
      .set('X-API-Key', admin.keys.operator)
      .send({ name: 'sneaky', role: 'admin', reason: 'promote myself' })
      .expect(403);
    expect(asOperator.body).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('admin role'),
    });
  });

  it('are created, listed and revoked by the admin-key command line, which prints the raw key once', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['-r', 'tsconfig-paths/register', CLI, ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: store.url, TS_NODE_BASEURL: join(ROOT, 'dist') },
      });
    const created = await run(
      'create',
      '--name',
      'from-cli',
      '--role',
      'viewer',
      '--reason',
      'dashboard',
    );
    const key = created.stdout.trim();
    expect(key).toMatch(/^sfk_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(created.stderr).toContain(keyId(key));
    await admin.http().get(`/sagas/${randomUUID()}`).set('X-API-Key', key).expect(404);

    const listed = await run('list', '--json');
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; createdBy: string }>;
    expect(keys.find((k) => k.id === keyId(key))?.createdBy).toMatch(/^cli:/);
    expect(listed.stdout).not.toContain(key);

    await run('revoke', keyId(key), '--reason', 'dashboard retired');
    await admin.http().get(`/sagas/${randomUUID()}`).set('X-API-Key', key).expect(401);
    const audit = await store.dataSource.query(
      `SELECT action, method, outcome FROM audit_record WHERE detail->>'keyId' = $1 ORDER BY id`,
      [keyId(key)],
    );
    expect(audit).toEqual([
      { action: 'api-key.create', method: 'CLI', outcome: 'applied' },
      { action: 'api-key.revoke', method: 'CLI', outcome: 'applied' },
    ]);
    await expect(run('create', '--name', 'x', '--role', 'boss')).rejects.toMatchObject({ code: 2 });
  });
});

describe('credentials', () => {
  const probe = () => admin.http().get(`/sagas/${randomUUID()}`);

  it('accept the same key in both headers', async () => {
    await probe()
      .set('X-API-Key', admin.keys.viewer)
      .set('Authorization', `Bearer ${admin.keys.viewer}`)
      .expect(404);
  });

  it.each([
    ['no credential', {}, 'authentication required'],
    ['another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }, 'must be "Bearer'],
    ['a malformed key', { 'X-API-Key': 'sfk_nope' }, 'malformed'],
    ['an unknown key', { 'X-API-Key': `sfk_${'a'.repeat(16)}_${'b'.repeat(64)}` }, 'not valid'],
    ['a JWT while JWT is off', { Authorization: 'Bearer aaa.bbb.ccc' }, 'not accepted'],
    ['neither a key nor a JWT', { Authorization: 'Bearer hunter2' }, 'neither'],
  ])(
    'refuse %s with 401 and a challenge',
    async (_what, headers: Record<string, string>, message) => {
      const res = await probe().set(headers).expect(401);
      expect(res.body).toMatchObject({
        statusCode: 401,
        code: 'UNAUTHENTICATED',
        message: expect.stringContaining(message),
      });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="sagaflow-admin"/);
    },
  );

  it('refuse a known key id with the wrong secret exactly like an unknown key', async () => {
    const forged = `sfk_${keyId(admin.keys.admin)}_${randomBytes(32).toString('hex')}`;
    const res = await probe().set('X-API-Key', forged).expect(401);
    expect(res.body.message).toBe('the API key is not valid');
  });

  it('refuse two different credentials', async () => {
    const res = await probe()
      .set('X-API-Key', admin.keys.viewer)
      .set('Authorization', `Bearer ${admin.keys.admin}`)
      .expect(401);
    expect(res.body.message).toContain('send one credential');
  });
});

describe('audit', () => {
  const principal: Principal = {
    id: 'key:0123456789abcdef',
    name: 'test',
    role: 'operator',
    via: 'api-key',
  };
  const fakeRequest = (
    path: string,
    route: string,
    headers: Record<string, string> = {},
  ): Request =>
    ({
      method: 'POST',
      path,
      route: { path: route },
      headers,
      params: {},
      query: {},
      body: {},
      principal,
    }) as unknown as Request;

  it('records an applied change in the handler transaction: with it when it commits, not at all when it rolls back', async () => {
    const audit = admin.app.get(AuditLog);
    const sagaId = randomUUID();
    const req = fakeRequest(`/sagas/${sagaId}/retry`, '/sagas/:id/retry');
    await expect(
      withTransaction(store.dataSource, async (sql) => {
        await audit.recordApplied(sql, req, {
          action: 'saga.retry',
          reason: 'first',
          statusCode: 200,
          response: { ok: 1 },
        });
        throw new Error('the change failed after the audit record');
      }),
    ).rejects.toThrow('the change failed');
    await withTransaction(store.dataSource, (sql) =>
      audit.recordApplied(sql, req, {
        action: 'saga.retry',
        reason: 'second',
        statusCode: 200,
        response: { ok: 2 },
      }),
    );
    expect(req.auditRecorded).toBe(true);
    const records = await withTransaction(store.dataSource, (sql) => audit.bySaga(sql, sagaId));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      sagaId,
      action: 'saga.retry',
      reason: 'second',
      outcome: 'applied',
      route: '/sagas/:id/retry',
      principal: { id: principal.id, role: 'operator', via: 'api-key' },
      response: { ok: 2 },
    });
  });

  it('finds idempotent replays by principal and key, and refuses a second applied record for the same key', async () => {
    const audit = admin.app.get(AuditLog);
    const req = fakeRequest('/sagas/bulk/retry', '/sagas/bulk/retry', {
      'idempotency-key': 'bulk-1',
    });
    const fingerprint = requestFingerprint(req);
    const entry = {
      action: 'saga.bulk-retry',
      reason: 'outage over',
      idempotencyKey: 'bulk-1',
      fingerprint,
      statusCode: 202,
      response: { accepted: 3 },
    };
    await withTransaction(store.dataSource, (sql) => audit.recordApplied(sql, req, entry));
    expect(
      await withTransaction(store.dataSource, (sql) =>
        audit.findReplay(sql, principal.id, 'bulk-1'),
      ),
    ).toEqual({
      fingerprint,
      statusCode: 202,
      response: { accepted: 3 },
    });
    expect(
      await withTransaction(store.dataSource, (sql) =>
        audit.findReplay(sql, 'key:ffffffffffffffff', 'bulk-1'),
      ),
    ).toBeNull();
    const clash = withTransaction(store.dataSource, (sql) => audit.recordApplied(sql, req, entry));
    await expect(clash).rejects.toBeInstanceOf(ApiError);
    await expect(clash).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    // The fingerprint ignores key order but not values.
    const withBody = (body: object) => requestFingerprint({ ...req, body } as Request);
    expect(withBody({ a: 1, b: [1, 2] })).toBe(withBody({ b: [1, 2], a: 1 }));
    expect(withBody({ a: 1, b: [1, 2] })).not.toBe(withBody({ a: 1, b: [2, 1] }));
  });

  it('records an applied HTTP change once, with the reason and without the raw key', async () => {
    const before = await lastAuditId(store.dataSource);
    const res = await admin
      .http()
      .post('/api-keys')
      .set('X-API-Key', admin.keys.admin)
      .send({ name: 'audited', role: 'viewer', reason: 'audit test' })
      .expect(201);
    const records = await auditSince(store.dataSource, before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      principal_id: `key:${keyId(admin.keys.admin)}`,
      role: 'admin',
      via: 'api-key',
      action: 'api-key.create',
      reason: 'audit test',
      outcome: 'applied',
      status_code: 201,
      route: '/api-keys',
    });
    expect(JSON.stringify(records)).not.toContain(res.body.key);
  });

  it('records a change a handler did not record itself (the safety net)', async () => {
    const before = await lastAuditId(store.dataSource);
    const res = await admin
      .http()
      .post('/sagas')
      .set('X-API-Key', admin.keys.operator)
      .set('Idempotency-Key', `audit-${randomUUID()}`)
      .send({ sagaType: 'order', input: orderInput() });
    expect(res.status).toBe(201);
    const records = await auditSince(store.dataSource, before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome: 'applied',
      status_code: 201,
      principal_id: `key:${keyId(admin.keys.operator)}`,
    });
    expect(JSON.stringify(records[0]!.response)).toContain(res.body.id);
  });

  it.each([
    ['403 for a weaker role', 'operator', 403, 'denied', 'FORBIDDEN'],
    ['401 without credentials', null, 401, 'denied', 'UNAUTHENTICATED'],
  ] as const)('records a denial: %s', async (_what, role, status, outcome, code) => {
    const before = await lastAuditId(store.dataSource);
    const req = admin.http().delete(`/api-keys/${keyId(admin.keys.viewer)}?reason=nope`);
    await (role ? req.set('X-API-Key', admin.keys[role]) : req).expect(status);
    const records = await auditSince(store.dataSource, before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      outcome,
      status_code: status,
      method: 'DELETE',
      route: '/api-keys/:id',
      principal_id: role ? `key:${keyId(admin.keys[role])}` : null,
      detail: { code },
    });
  });

  it('records an invalid request as rejected, keeping nothing of what it sent', async () => {
    const before = await lastAuditId(store.dataSource);
    await admin
      .http()
      .post('/api-keys')
      .set('X-API-Key', admin.keys.admin)
      .send({ name: 'x', role: 'viewer', reason: 'x', zzInjected: 'zzPayload' })
      .expect(400);
    await admin
      .http()
      .post('/api-keys')
      .set('X-API-Key', admin.keys.admin)
      .set('content-type', 'application/json')
      .send('{"name":')
      .expect(400);
    await admin
      .http()
      .post('/no-such-route')
      .set('X-API-Key', admin.keys.admin)
      .send({})
      .expect(404);
    const records = await auditSince(store.dataSource, before);
    expect(records.map((r) => [r.outcome, r.status_code, r.detail.code])).toEqual([
      ['rejected', 400, 'VALIDATION_FAILED'],
      ['rejected', 400, 'HTTP_ERROR'],
      ['rejected', 404, 'NOT_FOUND'],
    ]);
    expect(JSON.stringify(records)).not.toMatch(/zzInjected|zzPayload/);
  });

  it('records a server error as failed, and answers it without details', async () => {
    const before = await lastAuditId(store.dataSource);
    await store.dataSource.query(`ALTER TABLE api_key RENAME TO api_key_away`);
    try {
      const res = await admin
        .http()
        .post('/api-keys')
        .set('X-API-Key', admin.keys.admin)
        .send({})
        .expect(500);
      expect(res.body).toEqual({
        statusCode: 500,
        code: 'INTERNAL',
        message: 'internal error; the server log has the details',
      });
    } finally {
      await store.dataSource.query(`ALTER TABLE api_key_away RENAME TO api_key`);
    }
    const records = await auditSince(store.dataSource, before);
    expect(records.map((r) => [r.outcome, r.status_code])).toEqual([['failed', 500]]);
  });

  it('does not audit reads, and lists records to admins with filters and keyset pages', async () => {
    const before = await lastAuditId(store.dataSource);
    const get = (query: string) =>
      admin.http().get(`/audit-records${query}`).set('X-API-Key', admin.keys.admin);
    await get('').expect(200);
    expect(await auditSince(store.dataSource, before)).toEqual([]);

    const denied = await get('?outcome=denied').expect(200);
    expect(denied.body.items.length).toBeGreaterThan(0);
    expect(denied.body.items.every((r: { outcome: string }) => r.outcome === 'denied')).toBe(true);
    const mine = await get(
      `?principal=key:${keyId(admin.keys.admin)}&since=2020-01-01T00:00:00Z`,
    ).expect(200);
    expect(
      mine.body.items.every(
        (r: { principal: { id: string } }) => r.principal.id === `key:${keyId(admin.keys.admin)}`,
      ),
    ).toBe(true);

    const all = (await get('?limit=500').expect(200)).body.items as Array<{ id: string }>;
    const first = await get('?limit=2').expect(200);
    expect(first.body.items.map((r: { id: string }) => r.id)).toEqual(
      all.slice(0, 2).map((r) => r.id),
    );
    const second = await get(`?limit=2&after=${first.body.next}`).expect(200);
    expect(second.body.items.map((r: { id: string }) => r.id)).toEqual(
      all.slice(2, 4).map((r) => r.id),
    );

    for (const bad of [
      '?limit=0',
      '?limit=501',
      '?since=yesterday',
      '?sagaId=nope',
      '?outcome=maybe',
      '?after=-1',
      '?colour=red',
    ]) {
      const res = await get(bad).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    await admin.http().get('/audit-records').set('X-API-Key', admin.keys.operator).expect(403);
  });
});

describe('errors', () => {
  it('answers unknown routes, oversized and malformed bodies with JSON 4xx', async () => {
    const unknown = await admin
      .http()
      .get('/no-such-route')
      .set('X-API-Key', admin.keys.viewer)
      .expect(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
    const huge = await admin
      .http()
      .post('/sagas')
      .set('X-API-Key', admin.keys.operator)
      .send({ sagaType: 'order', input: { blob: 'x'.repeat(300_000) } })
      .expect(413);
    expect(huge.body).toMatchObject({ statusCode: 413, code: 'HTTP_ERROR' });
  });
});

describe('JWT bearer tokens', () => {
  const ISSUER = 'https://idp.test.sagaflow';
  const AUDIENCE = 'sagaflow-admin';
  let jwtAdmin: AdminApp;
  let jwks: Server;
  let signingKey: CryptoKey;
  let strangerKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    jwtAdmin = await startAdminApi({
      databaseUrl: store.url,
      env: {
        SAGAFLOW_JWT_ISSUER: ISSUER,
        SAGAFLOW_JWT_AUDIENCE: AUDIENCE,
        SAGAFLOW_JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
        SAGAFLOW_DOCS_PUBLIC: 'true',
      },
    });
  });

  afterAll(async () => {
    await jwtAdmin?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const token = (
    claims: JWTPayload,
    options: {
      key?: CryptoKey;
      issuer?: string;
      audience?: string;
      expires?: number | string;
    } = {},
  ) =>
    new SignJWT({ sagaflow_role: 'operator', name: 'Alice', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime(options.expires ?? '5m')
      .sign(options.key ?? signingKey);

  it('accepts a valid token, with the role from its claim, and audits under jwt:<sub>', async () => {
    const operator = await token({});
    await jwtAdmin
      .http()
      .get(`/sagas/${randomUUID()}`)
      .set('Authorization', `Bearer ${operator}`)
      .expect(404);
    const before = await lastAuditId(store.dataSource);
    await jwtAdmin
      .http()
      .post('/api-keys')
      .set('Authorization', `Bearer ${operator}`)
      .send({})
      .expect(403);
    const [record] = await auditSince(store.dataSource, before);
    expect(record).toMatchObject({
      principal_id: 'jwt:alice',
      principal_name: 'Alice',
      role: 'operator',
      via: 'jwt',
      outcome: 'denied',
    });
    const asAdmin = await token({ sagaflow_role: ['viewer', 'admin'] });
    await jwtAdmin.http().get('/api-keys').set('Authorization', `Bearer ${asAdmin}`).expect(200);
    // API keys still work next to JWTs.
    await jwtAdmin.http().get('/api-keys').set('X-API-Key', jwtAdmin.keys.admin).expect(200);
  });

  it.each([
    ['expired', () => token({}, { expires: Math.floor(Date.now() / 1000) - 60 }), 'expired'],
    ['for another audience', () => token({}, { audience: 'billing' }), 'audience'],
    ['from another issuer', () => token({}, { issuer: 'https://evil.test' }), 'issuer'],
    ['signed by an unknown key', () => token({}, { key: strangerKey }), 'not valid'],
    ['malformed', async () => 'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln', 'not valid'],
  ])('refuses a token %s with 401', async (_what, make, message) => {
    const res = await jwtAdmin
      .http()
      .get(`/sagas/${randomUUID()}`)
      .set('Authorization', `Bearer ${await make()}`)
      .expect(401);
    expect(res.body).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringContaining(message),
    });
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('refuses a valid token without a usable role with 403', async () => {
    const res = await jwtAdmin
      .http()
      .get(`/sagas/${randomUUID()}`)
      .set('Authorization', `Bearer ${await token({ sagaflow_role: 'superuser' })}`)
      .expect(403);
    expect(res.body.message).toContain('sagaflow_role');
  });

  it('says it cannot check a token (503), not that the token is bad, when the JWKS cannot be fetched', async () => {
    const broken = createServer((_req, res) => res.writeHead(500).end('down'));
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const { port } = broken.address() as AddressInfo;
    try {
      for (const url of [`http://127.0.0.1:${port}/jwks`, 'http://127.0.0.1:1/jwks']) {
        const verifier = new JwtVerifier({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUrl: new URL(url),
          roleClaim: 'sagaflow_role',
        });
        expect(await verifier.verify(await token({}))).toMatchObject({ kind: 'unavailable' });
      }
    } finally {
      await new Promise((resolve) => broken.close(resolve));
    }
  });

  it('serves the OpenAPI document to anyone when SAGAFLOW_DOCS_PUBLIC=true', async () => {
    const res = await jwtAdmin.http().get('/docs-json').expect(200);
    expect(res.body.paths['/api-keys'].post['x-sagaflow-access']).toBe('admin');
  });
});

describe('OpenAPI', () => {
  it('serves the document and UI to viewers, with both security schemes and the access of each route', async () => {
    await admin.http().get('/docs-json').expect(401);
    await admin.http().get('/docs').expect(401);
    const doc = await admin
      .http()
      .get('/docs-json')
      .set('X-API-Key', admin.keys.viewer)
      .expect(200);
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual(['api-key', 'bearer']);
    expect(doc.body.paths['/health'].get.security).toEqual([]);
    expect(doc.body.paths['/api-keys'].post['x-sagaflow-access']).toBe('admin');
    expect(doc.body.components.schemas.CreateApiKeyDto.required).toEqual([
      'name',
      'role',
      'reason',
    ]);
    const ui = await admin.http().get('/docs').set('X-API-Key', admin.keys.viewer).expect(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('rate limits', () => {
  let limited: AdminApp;

  beforeAll(async () => {
    limited = await startAdminApi({
      databaseUrl: store.url,
      env: {
        SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE: '3',
        SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE: '2',
      },
    });
  });

  afterAll(async () => {
    await limited?.close();
  });

  const read = (key?: string) => {
    const req = limited.http().get(`/sagas/${randomUUID()}`);
    return key ? req.set('X-API-Key', key) : req;
  };

  it('answers 429 with Retry-After past the read budget, per principal, reads and writes apart', async () => {
    for (let i = 0; i < 3; i += 1) await read(limited.keys.viewer).expect(404);
    const over = await read(limited.keys.viewer).expect(429);
    expect(over.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another principal has its own budget; the viewer's writes have theirs (and 429s are audited).
    await read(limited.keys.operator).expect(404);
    const before = await lastAuditId(store.dataSource);
    const write = () =>
      limited.http().post('/sagas').set('X-API-Key', limited.keys.viewer).send({});
    await write().expect(403);
    await write().expect(403);
    await write().expect(429);
    expect(
      (await auditSince(store.dataSource, before)).map((r) => [r.outcome, r.status_code]),
    ).toEqual([
      ['denied', 403],
      ['denied', 403],
      ['denied', 429],
    ]);
  });

  it('limits unauthenticated callers by address, and never limits health checks', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await read()).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    for (let i = 0; i < 10; i += 1) await limited.http().get('/health/live').expect(200);
  });
});
