import { Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify } from 'jose';
import { JwtConfig } from './auth-config';
import { isRole, Principal, Role, ROLES } from './principal';

/** Why a token was not accepted: `invalid` is the caller's fault (401), `unavailable` ours (503). */
export type JwtRefusal = { kind: 'invalid' | 'forbidden' | 'unavailable'; message: string };

/**
 * Verifies bearer JWTs against the issuer's JWKS (fetched on demand, cached by jose, refetched
 * when a token names an unknown key id, so the issuer can rotate keys) and maps them to a
 * principal. Only asymmetric algorithms are accepted: a shared secret would let anyone who
 * holds it mint an admin token.
 */
export class JwtVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly config: JwtConfig) {
    this.jwks = createRemoteJWKSet(config.jwksUrl, {
      timeoutDuration: 3000,
      cooldownDuration: 30_000,
    });
  }

  async verify(token: string): Promise<Principal | JwtRefusal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: [
          'RS256',
          'RS384',
          'RS512',
          'PS256',
          'PS384',
          'PS512',
          'ES256',
          'ES384',
          'ES512',
          'EdDSA',
        ],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 5,
      }));
    } catch (error) {
      return describeFailure(error, this.config);
    }
    const role = highestRole(claimAt(payload, this.config.roleClaim));
    if (!role) {
      return {
        kind: 'forbidden',
        message: `the token's "${this.config.roleClaim}" claim must be one of ${ROLES.join(', ')}`,
      };
    }
    const types = payload.sagaflow_saga_types;
    const sagaTypes =
      Array.isArray(types) && types.length > 0 && types.every((t) => typeof t === 'string')
        ? (types as string[])
        : null;
    return { id: `jwt:${payload.sub}`, name: displayName(payload), role, via: 'jwt', sagaTypes };
  }
}

function describeFailure(error: unknown, config: JwtConfig): JwtRefusal {
  if (error instanceof errors.JWTExpired) {
    return { kind: 'invalid', message: 'the token has expired' };
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const expected: Record<string, string> = {
      iss: `the token's issuer is not ${config.issuer}`,
      aud: `the token's audience does not include ${config.audience}`,
    };
    return {
      kind: 'invalid',
      message:
        expected[error.claim] ?? `the token's "${error.claim}" claim is invalid: ${error.reason}`,
    };
  }
  if (error instanceof errors.JOSEError && !isFetchFailure(error)) {
    return { kind: 'invalid', message: `the token is not valid (${error.code}: ${error.message})` };
  }
  // Anything else is about reaching the key set (jose checks the token's shape with its own
  // errors): we could not check the token, which is not the caller's fault.
  new Logger('Jwt').warn(`JWKS ${config.jwksUrl.href}: ${String(error)}`);
  return {
    kind: 'unavailable',
    message: `the token issuer's key set at ${config.jwksUrl.href} cannot be fetched; try again later`,
  };
}

/** A non-200 answer is a bare JOSEError; a broken or slow endpoint has its own classes. */
function isFetchFailure(error: InstanceType<typeof errors.JOSEError>): boolean {
  return (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    error.constructor === errors.JOSEError
  );
}

/** A claim by dotted path (`realm_access.roles` works as well as `sagaflow_role`). */
function claimAt(payload: JWTPayload, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, part) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined,
      payload,
    );
}

/** A role claim may be one role or a list (as identity providers often send); the highest wins. */
function highestRole(claim: unknown): Role | null {
  const values = Array.isArray(claim) ? claim : [claim];
  const roles = values.filter(isRole);
  return roles.length === 0
    ? null
    : roles.reduce((a, b) => (ROLES.indexOf(b) > ROLES.indexOf(a) ? b : a));
}

function displayName(payload: JWTPayload): string {
  for (const claim of ['name', 'preferred_username', 'email']) {
    const value = payload[claim];
    if (typeof value === 'string' && value.length > 0) return value.slice(0, 200);
  }
  return String(payload.sub);
}
