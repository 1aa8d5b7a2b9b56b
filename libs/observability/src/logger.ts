import pino, { DestinationStream, Logger as PinoLogger, LevelWithSilent } from 'pino';

/** The structured logger every Sagaflow process and runtime path writes to (pino). */
export type Logger = PinoLogger;

/**
 * Secrets that must never reach a log line, wherever they sit in the logged object: HTTP
 * credentials (request headers or a bare `headers` object) and connection strings. Saga payload
 * fields are redacted separately, by each definition's `sensitive` list (see `redactPayload`).
 */
export const REDACT_PATHS: readonly string[] = [
  'authorization',
  '["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'databaseUrl',
  'redisUrl',
];

export interface LoggerOptions {
  /** Written as `service` on every line, e.g. `sagaflow-orchestrator`. */
  readonly service: string;
  /** Default `LOG_LEVEL`, else `info`. */
  readonly level?: string;
  /** Where lines go (default: this process's stdout). Tests pass a stream of their own. */
  readonly destination?: DestinationStream;
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * A JSON logger: one object per line with `level` (as a name), `time` (ISO), `service`, `msg`
 * and the fields passed; secrets at `REDACT_PATHS` read `[redacted]`.
 *
 * @example
 * const logger = createLogger({ service: 'sagaflow-orchestrator' });
 * logger.info({ sagaId, sagaType, step, attempt }, 'step timed out');
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level))
    throw new Error(`LOG_LEVEL="${level}" is invalid: use one of ${LEVELS.join(', ')}.`);
  return pino(
    {
      level: level as LevelWithSilent,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    // process.stdout (not pino's own fd writer), so one process's lines stay in order with the
    // lines other code writes there; on Linux, writes to a pipe or a file are synchronous.
    options.destination ?? process.stdout,
  );
}

/** A logger that writes nothing: the default where no logger was passed in. */
export const SILENT_LOGGER: Logger = pino({ enabled: false });
