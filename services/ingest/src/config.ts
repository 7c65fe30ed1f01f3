import { ConfigError, commonEnv, envInt, envPort, envString, MAX_TIMER_MS, parseEnv } from '@relay/runtime';
import * as v from 'valibot';

/** The environment ingest reads (SPEC section 2 plus its own limits). */
export const IngestEnv = v.object({
  ...commonEnv,
  PORT: envPort(8080),
  // Optional: unset (or empty) disables authentication; see loadConfig for a blank one.
  RELAY_API_TOKEN: v.optional(
    envString(undefined, {
      pattern: /^\S+$/,
      expected: 'expected a token without spaces (a request sends it as `Authorization: Bearer <token>`)',
    }),
  ),
  RELAY_MAX_BODY_BYTES: envInt({ min: 1, max: 1024 * 1024 * 1024, default: 1024 * 1024 }),
  RELAY_REQUEST_TIMEOUT_MS: envInt({ min: 1, max: MAX_TIMER_MS, default: 5000 }),
  RELAY_KEEPALIVE_TIMEOUT_MS: envInt({ min: 1, max: MAX_TIMER_MS, default: 65_000 }),
});

/** Ingest's configuration, parsed once at boot. */
export interface IngestConfig {
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  logLevel: v.InferOutput<typeof IngestEnv>['LOG_LEVEL'];
  port: number;
  /** When set, every route but /healthz and /readyz needs `Authorization: Bearer <apiToken>`. */
  apiToken: string | undefined;
  maxBodyBytes: number;
  /** Upper bound of each Postgres or Redis call made while answering a request. */
  requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open after a response (Node's default is 5 s). Longer
   * than the idle timeout of the load balancer or proxy in front (60 s for AWS ALB and nginx), so that
   * the proxy, not ingest, closes an idle connection: else the proxy may send a request on a
   * connection ingest is closing and answer its client 502.
   */
  keepAliveTimeoutMs: number;
  /** Approximate bound on each stream's length (RELAY_STREAM_MAXLEN); the bus default when absent. */
  streamMaxLen?: number;
}

/** Reads the configuration from `env`; throws ConfigError (one line per bad variable, naming it). */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): IngestConfig {
  // parseEnv counts a blank variable as unset; for the token that would turn authentication off
  // without a word (a secret mounted as whitespace), so only an empty one means unset.
  const token = env.RELAY_API_TOKEN;
  if (token !== undefined && token !== '' && token.trim() === '') {
    throw new ConfigError([
      {
        variable: 'RELAY_API_TOKEN',
        problem: 'is blank; leave it unset (or empty) to turn authentication off',
      },
    ]);
  }
  const parsed = parseEnv(IngestEnv, env);
  return {
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    prefix: parsed.RELAY_PREFIX,
    logLevel: parsed.LOG_LEVEL,
    port: parsed.PORT,
    apiToken: parsed.RELAY_API_TOKEN,
    maxBodyBytes: parsed.RELAY_MAX_BODY_BYTES,
    requestTimeoutMs: parsed.RELAY_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: parsed.RELAY_KEEPALIVE_TIMEOUT_MS,
    streamMaxLen: parsed.RELAY_STREAM_MAXLEN,
  };
}

/** How long a SIGTERM'd ingest may take to stop gracefully before it exits anyway (infra/k8s allows for it). */
export const SHUTDOWN_GRACE_MS = 10_000;
