import { loadAuthConfig } from './auth-config';

describe('loadAuthConfig', () => {
  it('defaults to API keys only, 600 reads and 120 writes a minute, docs for viewers', () => {
    expect(loadAuthConfig({})).toEqual({
      jwt: null,
      readsPerMinute: 600,
      writesPerMinute: 120,
      docsPublic: false,
    });
  });

  it('turns JWT on with issuer, JWKS address and audience; the role claim defaults to sagaflow_role', () => {
    const config = loadAuthConfig({
      SAGAFLOW_JWT_ISSUER: 'https://idp',
      SAGAFLOW_JWT_JWKS_URL: 'https://idp/jwks.json',
      SAGAFLOW_JWT_AUDIENCE: 'sagaflow',
    });
    expect(config.jwt).toMatchObject({
      issuer: 'https://idp',
      audience: 'sagaflow',
      roleClaim: 'sagaflow_role',
    });
    expect(config.jwt?.jwksUrl.href).toBe('https://idp/jwks.json');
  });

  it.each([
    [{ SAGAFLOW_JWT_ISSUER: 'https://idp' }, 'SAGAFLOW_JWT_JWKS_URL and SAGAFLOW_JWT_AUDIENCE'],
    [
      { SAGAFLOW_JWT_ISSUER: 'i', SAGAFLOW_JWT_JWKS_URL: 'not a url', SAGAFLOW_JWT_AUDIENCE: 'a' },
      'not a URL',
    ],
    [{ SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE: '0' }, 'SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE="0"'],
    [
      { SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE: 'lots' },
      'SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE="lots"',
    ],
    [{ SAGAFLOW_DOCS_PUBLIC: 'maybe' }, 'SAGAFLOW_DOCS_PUBLIC="maybe"'],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => loadAuthConfig(env)).toThrow(message);
  });
});
