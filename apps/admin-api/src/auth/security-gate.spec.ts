import { Request } from 'express';
import { ApiError } from '../errors';
import { AuthConfig } from './auth-config';
import { Authenticator } from './authenticator';
import { Principal } from './principal';
import { RateLimiter } from './rate-limiter';
import { SecurityGate } from './security-gate';

const config: AuthConfig = {
  jwt: null,
  readsPerMinute: 100,
  writesPerMinute: 100,
  docsPublic: false,
};
const principal = (role: Principal['role']): Principal => ({
  id: `key:${role}`,
  name: role,
  role,
  via: 'api-key',
});

function gate(
  options: { who?: Principal | null | Error; overBudget?: boolean; docsPublic?: boolean } = {},
) {
  const consumed: string[] = [];
  const authenticator = {
    identify: async () => {
      if (options.who instanceof Error) throw options.who;
      return options.who ?? null;
    },
  } as unknown as Authenticator;
  const limiter = {
    consume: async (budget: string, subject: string) => {
      consumed.push(`${budget}:${subject}`);
      return options.overBudget ? { retryAfterSeconds: 7 } : null;
    },
    limitOf: () => 100,
  } as unknown as RateLimiter;
  const g = new SecurityGate(authenticator, limiter, {
    ...config,
    docsPublic: options.docsPublic ?? false,
  });
  return { g, consumed };
}

const request = (method = 'GET') => ({ method, ip: '10.0.0.1', socket: {} }) as unknown as Request;

async function refusal(run: Promise<void>): Promise<ApiError> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('SecurityGate', () => {
  it('lets anyone reach public routes, and never counts health checks', async () => {
    const { g, consumed } = gate();
    await g.check(request(), 'GET /health/ready');
    expect(consumed).toEqual([]);
  });

  it('refuses an unlisted route even to an admin', async () => {
    const error = await refusal(
      gate({ who: principal('admin') }).g.check(request(), 'GET /secret'),
    );
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toContain('not in the access policy');
  });

  it('refuses a weaker role, naming the role needed, after recording who asked', async () => {
    const req = request('POST');
    const error = await refusal(
      gate({ who: principal('viewer') }).g.check(req, 'POST /sagas/:id/retry'),
    );
    expect(error.message).toContain('needs the operator role');
    expect(req.principal?.id).toBe('key:viewer');
  });

  it('admits an equal or stronger role and counts it against the principal', async () => {
    const { g, consumed } = gate({ who: principal('admin') });
    await g.check(request('POST'), 'POST /sagas/:id/retry');
    expect(consumed).toEqual(['writes:key:admin']);
  });

  it('asks anonymous callers to authenticate, counting them by address', async () => {
    const { g, consumed } = gate({ who: null });
    const error = await refusal(g.check(request(), 'GET /sagas'));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.headers?.['WWW-Authenticate']).toContain('Bearer');
    expect(consumed).toEqual(['reads:ip:10.0.0.1']);
  });

  it('counts failed credentials against the address, so guessing keys is limited', async () => {
    const { g, consumed } = gate({ who: new ApiError('UNAUTHENTICATED', 'bad key') });
    await refusal(g.check(request(), 'GET /sagas'));
    expect(consumed).toEqual(['reads:ip:10.0.0.1']);
  });

  it('answers 429 with Retry-After when over budget', async () => {
    const error = await refusal(
      gate({ who: principal('viewer'), overBudget: true }).g.check(request(), 'GET /sagas'),
    );
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.headers).toEqual({ 'Retry-After': '7' });
  });

  it('serves the docs to anyone only when asked to', async () => {
    await refusal(gate({ who: null }).g.check(request(), 'GET /docs-json'));
    await gate({ who: null, docsPublic: true }).g.check(request(), 'GET /docs-json');
  });
});
