import { accessFor, isMutating, POLICY, routeKey } from './policy';
import { roleAtLeast } from './principal';

describe('the policy table', () => {
  it('lists exactly the admin API routes, each with its access', () => {
    const byAccess = (access: string) =>
      Object.entries(POLICY)
        .filter(([, a]) => a === access)
        .map(([key]) => key)
        .sort();
    expect(byAccess('public')).toEqual([
      'GET /health',
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
    ]);
    expect(byAccess('viewer')).toEqual(
      [
        'GET /sagas',
        'GET /sagas/counts',
        'GET /sagas/:id',
        'GET /definitions',
        'GET /definitions/:name/:version',
        'GET /parked-messages',
        'GET /parked-messages/:id',
        'GET /docs',
        'GET /docs-json',
      ].sort(),
    );
    expect(byAccess('operator')).toEqual(
      [
        'POST /sagas',
        'POST /sagas/:id/retry',
        'POST /sagas/:id/compensate',
        'POST /sagas/:id/cancel',
        'POST /sagas/:id/resume',
        'POST /sagas/:id/skip',
        'POST /sagas/:id/mark-compensated',
        'POST /sagas/bulk/retry',
        'POST /sagas/bulk/compensate',
        'POST /sagas/bulk/cancel',
        'POST /parked-messages/:id/replay',
        'POST /parked-messages/:id/discard',
      ].sort(),
    );
    expect(byAccess('admin')).toEqual([
      'DELETE /api-keys/:id',
      'GET /api-keys',
      'GET /audit-records',
      'POST /api-keys',
    ]);
    expect(Object.keys(POLICY)).toHaveLength(29);
  });

  it('denies what it does not list, including names inherited from Object', () => {
    expect(accessFor('GET /secret')).toBeUndefined();
    expect(accessFor('constructor')).toBeUndefined();
    expect(accessFor('__proto__')).toBeUndefined();
    expect(accessFor('POST /health')).toBeUndefined();
  });

  it('keys routes by method and Express path; HEAD shares the GET entry', () => {
    expect(routeKey('get', '/sagas/:id')).toBe('GET /sagas/:id');
    expect(routeKey('HEAD', '/health')).toBe('GET /health');
    expect(accessFor(routeKey('head', '/sagas'))).toBe('viewer');
  });

  it('orders roles viewer < operator < admin', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'admin')).toBe(false);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
  });

  it('treats POST, PUT, PATCH and DELETE as mutating', () => {
    expect(['POST', 'put', 'PATCH', 'DELETE'].every(isMutating)).toBe(true);
    expect(['GET', 'HEAD', 'OPTIONS'].some(isMutating)).toBe(false);
  });
});
