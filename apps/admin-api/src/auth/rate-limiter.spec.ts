import { AuthConfig } from './auth-config';
import { RateLimiter } from './rate-limiter';

const config: AuthConfig = { jwt: null, readsPerMinute: 2, writesPerMinute: 1, docsPublic: false };

describe('RateLimiter', () => {
  let limiter: RateLimiter;
  beforeEach(() => (limiter = new RateLimiter(config)));
  afterEach(() => limiter.onApplicationShutdown());

  it('allows the budget per minute, then says how long to wait', async () => {
    expect(await limiter.consume('reads', 'key:a')).toBeNull();
    expect(await limiter.consume('reads', 'key:a')).toBeNull();
    const over = await limiter.consume('reads', 'key:a');
    expect(over!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(over!.retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it('counts each caller and each budget apart', async () => {
    await limiter.consume('reads', 'key:a');
    await limiter.consume('reads', 'key:a');
    expect(await limiter.consume('reads', 'key:b')).toBeNull();
    expect(await limiter.consume('writes', 'key:a')).toBeNull();
    expect(await limiter.consume('writes', 'key:a')).not.toBeNull();
  });
});
