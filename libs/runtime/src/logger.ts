import { type DestinationStream, destination, type LevelWithSilent, type Logger, pino } from 'pino';
import { maskUrlCredentials } from './redact.js';

export type { Logger } from 'pino';

/** Options of the root logger of one process. */
export interface CreateLoggerOptions {
  /** The service name, present on every line as `service`. */
  service: string;
  /** pino level (`LOG_LEVEL`). */
  level: LevelWithSilent;
  /** This process's id (see instanceId), present on every line as `instance`. */
  instance?: string;
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

// Fields holding secrets: replaced whole.
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'token',
  'apiToken',
  'accessToken',
  'refreshToken',
  'password',
  'secret',
  'RELAY_API_TOKEN',
];
// Fields holding connection URLs: the user and password part of the URL is masked, the host stays readable.
const URL_KEYS = ['DATABASE_URL', 'REDIS_URL', 'databaseUrl', 'redisUrl', 'url'];

// fast-redact paths: the key at the top level, one level down, and inside `headers` objects
// (`req.headers.authorization`, `request.headers['x-api-key']`).
const REDACT_PATHS = [...SECRET_KEYS, ...URL_KEYS]
  .flatMap((key) => [key, `*.${key}`])
  .concat([
    'headers.authorization',
    'headers.cookie',
    'headers["x-api-key"]',
    '*.headers.authorization',
    '*.headers.cookie',
    '*.headers["x-api-key"]',
  ]);

const REDACTED = '[Redacted]';
const URL_KEY_SET = new Set(URL_KEYS);

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (URL_KEY_SET.has(key)) return typeof value === 'string' ? maskUrlCredentials(value) : value;
  return REDACTED;
}

/**
 * Creates the root logger of a service: JSON lines written synchronously to stdout, `level` as its name (`"level":"info"`),
 * ISO `time`, `service` and `instance` on every line, and secrets redacted (authorization and cookie
 * headers, token/password/secret fields, passwords inside DATABASE_URL/REDIS_URL/url fields).
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const base: Record<string, string | number> = { service: options.service };
  if (options.instance !== undefined) base.instance = options.instance;
  else base.pid = process.pid;
  return pino(
    {
      level: options.level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor },
    },
    // Synchronous stdout: a line logged right before process.exit (fatal error, forced shutdown)
    // must not be lost in an async buffer.
    options.destination ?? destination({ dest: 1, sync: true }),
  );
}
