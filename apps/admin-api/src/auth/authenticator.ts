import { Inject, Injectable } from '@nestjs/common';
import { Request } from 'express';
import { ApiError } from '../errors';
import { ApiKeyService } from './api-key.service';
import { AUTH_CONFIG, AuthConfig } from './auth-config';
import { readCredentials } from './credentials';
import { JwtVerifier } from './jwt-verifier';
import { Principal } from './principal';

/** Who is calling: verifies the request's credentials or says precisely why it cannot. */
@Injectable()
export class Authenticator {
  private readonly jwt: JwtVerifier | null;

  constructor(
    private readonly apiKeys: ApiKeyService,
    @Inject(AUTH_CONFIG) config: AuthConfig,
  ) {
    this.jwt = config.jwt ? new JwtVerifier(config.jwt) : null;
  }

  /** The principal, or null when no credential was sent; throws on a credential that fails. */
  async identify(req: Request): Promise<Principal | null> {
    const credentials = readCredentials(req);
    switch (credentials.kind) {
      case 'none':
        return null;
      case 'unusable':
        throw unauthenticated(credentials.message, 'invalid_request');
      case 'api-key': {
        const result = await this.apiKeys.authenticate(credentials.key);
        if ('refused' in result) throw unauthenticated(result.refused, 'invalid_token');
        return result;
      }
      case 'jwt':
        return this.verifyJwt(credentials.token);
    }
  }

  private async verifyJwt(token: string): Promise<Principal> {
    if (!this.jwt) {
      throw unauthenticated(
        'JWT bearer tokens are not accepted by this server (SAGAFLOW_JWT_* is not set): use an API key',
        'invalid_token',
      );
    }
    const result = await this.jwt.verify(token);
    if (!('kind' in result)) return result;
    if (result.kind === 'forbidden') throw new ApiError('FORBIDDEN', result.message);
    if (result.kind === 'unavailable')
      throw new ApiError('AUTHENTICATION_UNAVAILABLE', result.message);
    throw unauthenticated(result.message, 'invalid_token');
  }
}

/** A 401 with the RFC 6750 challenge, so clients learn how to authenticate. */
export function unauthenticated(
  message: string,
  error?: 'invalid_request' | 'invalid_token',
): ApiError {
  // Header values must be printable ASCII: anything else would fail the response (a 500).
  const description = message.replace(/[^\x20-\x7e]|["\\]/g, "'");
  const detail = error ? `, error="${error}", error_description="${description}"` : '';
  return new ApiError('UNAUTHENTICATED', message, undefined, {
    'WWW-Authenticate': `Bearer realm="sagaflow-admin"${detail}`,
  });
}
