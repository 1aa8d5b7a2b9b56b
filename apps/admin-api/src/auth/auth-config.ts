/** The admin API's security settings, read once at startup. */
export interface AuthConfig {
  /** Verify JWT bearer tokens too; null accepts API keys only. */
  readonly jwt: JwtConfig | null;
  readonly readsPerMinute: number;
  readonly writesPerMinute: number;
  /** Serve `/docs` and `/docs-json` to anyone instead of viewers. */
  readonly docsPublic: boolean;
}

export interface JwtConfig {
  readonly issuer: string;
  readonly jwksUrl: URL;
  readonly audience: string;
  /** The claim holding the role (`viewer`, `operator` or `admin`). */
  readonly roleClaim: string;
}

export const AUTH_CONFIG = 'SAGAFLOW_ADMIN_AUTH_CONFIG';

/**
 * Reads the security settings; throws naming the variable when one is unusable, so a typo
 * stops the API at startup instead of silently turning a protection off.
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  return {
    jwt: loadJwtConfig(env),
    readsPerMinute: positiveInt(env, 'SAGAFLOW_RATE_LIMIT_READS_PER_MINUTE', 600),
    writesPerMinute: positiveInt(env, 'SAGAFLOW_RATE_LIMIT_WRITES_PER_MINUTE', 120),
    docsPublic: flag(env, 'SAGAFLOW_DOCS_PUBLIC'),
  };
}

function loadJwtConfig(env: NodeJS.ProcessEnv): JwtConfig | null {
  const issuer = env.SAGAFLOW_JWT_ISSUER || '';
  const jwksUrl = env.SAGAFLOW_JWT_JWKS_URL || '';
  const audience = env.SAGAFLOW_JWT_AUDIENCE || '';
  if (!issuer && !jwksUrl && !audience) return null;
  const missing = [
    ['SAGAFLOW_JWT_ISSUER', issuer],
    ['SAGAFLOW_JWT_JWKS_URL', jwksUrl],
    ['SAGAFLOW_JWT_AUDIENCE', audience],
  ].filter(([, value]) => !value);
  if (missing.length > 0) {
    throw new Error(
      `JWT authentication is half configured: set ${missing.map(([name]) => name).join(' and ')} ` +
        `as well (or unset every SAGAFLOW_JWT_* variable to accept API keys only).`,
    );
  }
  return {
    issuer,
    jwksUrl: parseUrl(jwksUrl),
    audience,
    roleClaim: env.SAGAFLOW_JWT_ROLE_CLAIM || 'sagaflow_role',
  };
}

function parseUrl(raw: string): URL {
  try {
    return new URL(raw);
  } catch {
    throw new Error(`SAGAFLOW_JWT_JWKS_URL="${raw}" is not a URL: use the issuer's JWKS address.`);
  }
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name}="${raw}" is invalid: use a positive integer.`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (['', 'false', '0', 'no', 'off'].includes(raw)) return false;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  throw new Error(`${name}="${env[name]}" is invalid: use true or false.`);
}
