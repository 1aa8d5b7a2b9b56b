import { LoggerService } from '@nestjs/common';
import { Logger } from '../logger';

/**
 * Nest's logger interface over pino: Nest's own lines (and every `new Logger('Context')` in
 * the apps) become JSON lines with `context`. Nest passes the context as the last parameter
 * and, for errors, a stack before it.
 *
 * @example
 * const app = await NestFactory.create(AppModule, { logger: new PinoNestLogger(logger) });
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    const context = params.length > 1 ? params[params.length - 1] : params[0];
    const stack = params.length > 1 ? params[0] : undefined;
    const fields = {
      ...(typeof context === 'string' ? { context } : {}),
      ...(typeof stack === 'string' ? { stack } : {}),
    };
    if (message instanceof Error) this.logger.error({ ...fields, err: message }, message.message);
    else this.logger.error(fields, text(message));
  }

  private write(
    level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal',
    message: unknown,
    params: unknown[],
  ): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context = params[params.length - 1];
    const fields = typeof context === 'string' ? { context } : {};
    if (message !== null && typeof message === 'object' && !(message instanceof Error))
      this.logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    else this.logger[level](fields, text(message));
  }
}

function text(message: unknown): string {
  return message instanceof Error ? message.message : String(message);
}
