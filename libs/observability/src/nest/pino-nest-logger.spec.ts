import { createLogger } from '../logger';
import { PinoNestLogger } from './pino-nest-logger';

describe('PinoNestLogger', () => {
  it("writes Nest's lines as JSON with their context, errors with their stack", () => {
    const lines: string[] = [];
    const logger = new PinoNestLogger(
      createLogger({ service: 's', level: 'debug', destination: { write: (l) => lines.push(l) } }),
    );
    logger.log('Mapped {/health, GET} route', 'RouterExplorer');
    logger.warn('slow', 'Orchestrator');
    logger.error('boom', 'Error: boom\n    at x', 'AdminApi');
    logger.verbose('very detailed', 'X'); // trace: below debug, dropped

    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({
        level: 'info',
        context: 'RouterExplorer',
        msg: 'Mapped {/health, GET} route',
      }),
      expect.objectContaining({ level: 'warn', context: 'Orchestrator', msg: 'slow' }),
      expect.objectContaining({
        level: 'error',
        context: 'AdminApi',
        stack: 'Error: boom\n    at x',
        msg: 'boom',
      }),
    ]);
  });
});
