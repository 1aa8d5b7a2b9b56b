import { Injectable } from '@nestjs/common';
import { withConnection } from '@sagaflow/persistence';
import { DataSource } from 'typeorm';
import { parseApiKey, secretMatches } from './api-key-secret';
import { ApiKeyRepository } from './api-key.repository';
import { Principal } from './principal';

/** Turns a raw API key into a principal. Looked up on every request, so a revocation bites at once. */
@Injectable()
export class ApiKeyService {
  readonly repository = new ApiKeyRepository();

  constructor(private readonly dataSource: DataSource) {}

  /** The key's principal, or the reason it is refused (for the 401 message). */
  async authenticate(rawKey: string): Promise<Principal | { refused: string }> {
    const parsed = parseApiKey(rawKey);
    if (!parsed) return { refused: 'the API key is malformed (expected sfk_<id>_<secret>)' };
    return withConnection(this.dataSource, async (sql) => {
      const stored = await this.repository.findForAuthentication(sql, parsed.id);
      // One message for "no such key" and "wrong secret": which ids exist is not for strangers.
      if (!stored || !secretMatches(parsed.secret, stored.secretHash)) {
        return { refused: 'the API key is not valid' };
      }
      if (stored.revoked) return { refused: `the API key ${stored.id} was revoked` };
      await this.repository.touch(sql, stored.id);
      return {
        id: `key:${stored.id}`,
        name: stored.name,
        role: stored.role,
        via: 'api-key',
        sagaTypes: stored.sagaTypes,
      };
    });
  }
}
