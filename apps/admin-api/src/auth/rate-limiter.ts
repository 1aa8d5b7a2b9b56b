import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AUTH_CONFIG, AuthConfig } from './auth-config';

export type Budget = 'reads' | 'writes';

const WINDOW_MS = 60_000;

/**
 * Requests per minute per caller, reads and writes counted apart, on @nestjs/throttler's
 * storage (a sliding window: each hit expires a minute after it was made; refused requests do
 * not count). The counters live in this process: N replicas allow N times the budget.
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly storage = new ThrottlerStorageService();

  constructor(@Inject(AUTH_CONFIG) private readonly config: AuthConfig) {}

  /** Counts one request of `subject`; when over budget, how many seconds until one is free. */
  async consume(budget: Budget, subject: string): Promise<{ retryAfterSeconds: number } | null> {
    const limit = budget === 'reads' ? this.config.readsPerMinute : this.config.writesPerMinute;
    // blockDuration 0: no penalty box beyond the window itself.
    const record = await this.storage.increment(
      `${budget}:${subject}`,
      WINDOW_MS,
      limit,
      0,
      budget,
    );
    return record.isBlocked ? { retryAfterSeconds: Math.max(1, record.timeToBlockExpire) } : null;
  }

  limitOf(budget: Budget): number {
    return budget === 'reads' ? this.config.readsPerMinute : this.config.writesPerMinute;
  }

  onApplicationShutdown(): void {
    this.storage.onApplicationShutdown();
  }
}
