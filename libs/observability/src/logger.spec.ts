import { createLogger } from './logger';

describe('createLogger', () => {
  function capture(level = 'info') {
    const lines: string[] = [];
    const logger = createLogger({
      service: 'svc',
      level,
      destination: { write: (l) => lines.push(l) },
    });
    return { logger, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('writes one JSON object per line with level name, ISO time, service and message', () => {
    const { logger, lines } = capture();
    logger.info({ sagaId: 's-1' }, 'hello');
    expect(lines()).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        service: 'svc',
        sagaId: 's-1',
        msg: 'hello',
      },
    ]);
  });

  it('redacts credentials wherever a request or headers object is logged', () => {
    const { logger, lines } = capture();
    logger.info({
      req: {
        headers: { authorization: 'Bearer secret-1', 'x-api-key': 'secret-2', accept: 'json' },
      },
      headers: { authorization: 'Bearer secret-3', 'x-api-key': 'secret-4' },
      apiKey: 'secret-5',
    });
    const text = JSON.stringify(lines());
    for (const secret of ['secret-1', 'secret-2', 'secret-3', 'secret-4', 'secret-5'])
      expect(text).not.toContain(secret);
    expect(lines()[0]).toMatchObject({ req: { headers: { accept: 'json' } } });
  });

  it('honours the level and refuses an unknown one', () => {
    const { logger, lines } = capture('warn');
    logger.info('dropped');
    logger.warn('kept');
    expect(lines().map((l) => l.msg)).toEqual(['kept']);
    expect(() => createLogger({ service: 's', level: 'loud' })).toThrow(/LOG_LEVEL="loud"/);
  });
});
