import { Request } from 'express';
import { defaultAction, idempotencyHeader, requestFields } from './audit-request';

const SAGA = '7c29ea4d-1f1e-4c55-9d0b-0a1b2c3d4e5f';
const req = (over: Partial<Request> & { route?: { path: string } }) =>
  ({ method: 'POST', path: '/', headers: {}, ...over }) as unknown as Request;

describe('requestFields', () => {
  it('takes the saga id from /sagas/:id/... when it is a UUID', () => {
    expect(requestFields(req({ path: `/sagas/${SAGA}/retry` })).sagaId).toBe(SAGA);
    expect(requestFields(req({ path: `/sagas/${SAGA.toUpperCase()}` })).sagaId).toBe(SAGA);
    expect(requestFields(req({ path: '/sagas/bulk/retry' })).sagaId).toBeNull();
    expect(requestFields(req({ path: `/parked-messages/${SAGA}/replay` })).sagaId).toBeNull();
    expect(requestFields(req({ path: `/sagas/${SAGA}x/retry` })).sagaId).toBeNull();
  });

  it('records the principal when known, and never NUL characters', () => {
    const fields = requestFields(
      req({
        path: '/a\u0000b',
        principal: { id: 'jwt:x', name: 'e\u0000ve', role: 'admin', via: 'jwt' },
      }),
    );
    expect(fields).toMatchObject({
      principalId: 'jwt:x',
      principalName: 'eve',
      role: 'admin',
      via: 'jwt',
      path: '/ab',
    });
    expect(requestFields(req({})).principalId).toBeNull();
  });

  it('names the action by the route, or says there was none', () => {
    expect(defaultAction(req({ route: { path: '/sagas/:id/retry' } }))).toBe(
      'POST /sagas/:id/retry',
    );
    expect(defaultAction(req({}))).toBe('POST (no route)');
  });

  it('keeps at most 200 characters of the Idempotency-Key header', () => {
    expect(
      idempotencyHeader(req({ headers: { 'idempotency-key': 'k'.repeat(500) } })),
    ).toHaveLength(200);
    expect(idempotencyHeader(req({}))).toBeNull();
  });
});
