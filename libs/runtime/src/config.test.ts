import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { checkHeartbeatWindow, commonEnv, healthEnv } from './common-env.js';
import { parseEnv } from './config.js';
import { envBool, envEnum, envInt, envPort, envString, envUrl } from './env-entries.js';
import { ConfigError } from './errors.js';

const serviceEnv = v.object({ ...commonEnv, ...healthEnv });

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, parsing succeeded');
}

describe('parseEnv with commonEnv', () => {
  it('applies every default to an empty environment', () => {
    expect(parseEnv(serviceEnv, {})).toEqual({
      DATABASE_URL: 'postgres://relay:relay@localhost:5432/relay',
      REDIS_URL: 'redis://localhost:6379',
      RELAY_PREFIX: 'relay',
      LOG_LEVEL: 'info',
      RELAY_HEARTBEAT_INTERVAL_MS: 2000,
      RELAY_HEARTBEAT_TIMEOUT_MS: 10000,
      RELAY_STREAM_MAXLEN: 100000,
      HEALTH_PORT: 0,
    });
  });

  it('treats blank variables as unset', () => {
    const config = parseEnv(serviceEnv, { RELAY_PREFIX: '', LOG_LEVEL: '  ' });
    expect(config.RELAY_PREFIX).toBe('relay');
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('parses good values into typed output and drops unrelated variables', () => {
    const config = parseEnv(serviceEnv, {
      DATABASE_URL: 'postgresql://u:p@db.internal:6543/relay_test?sslmode=require',
      REDIS_URL: 'rediss://:secret@cache:6380/2',
      RELAY_PREFIX: 'test:run_1.a-b',
      LOG_LEVEL: 'debug',
      RELAY_HEARTBEAT_INTERVAL_MS: '500',
      RELAY_HEARTBEAT_TIMEOUT_MS: '+3000',
      RELAY_STREAM_MAXLEN: '5000',
      HEALTH_PORT: '9464',
      PATH: '/usr/bin',
    });
    const interval: number = config.RELAY_HEARTBEAT_INTERVAL_MS;
    expect(interval).toBe(500);
    expect(config).toEqual({
      DATABASE_URL: 'postgresql://u:p@db.internal:6543/relay_test?sslmode=require',
      REDIS_URL: 'rediss://:secret@cache:6380/2',
      RELAY_PREFIX: 'test:run_1.a-b',
      LOG_LEVEL: 'debug',
      RELAY_HEARTBEAT_INTERVAL_MS: 500,
      RELAY_HEARTBEAT_TIMEOUT_MS: 3000,
      RELAY_STREAM_MAXLEN: 5000,
      HEALTH_PORT: 9464,
    });
  });

  it.each([
    [
      'RELAY_HEARTBEAT_INTERVAL_MS',
      '-5',
      'RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "-5"',
    ],
    ['RELAY_HEARTBEAT_INTERVAL_MS', '0', 'RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "0"'],
    [
      'RELAY_HEARTBEAT_INTERVAL_MS',
      '2.5',
      'RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "2.5"',
    ],
    [
      'RELAY_HEARTBEAT_INTERVAL_MS',
      '1e3',
      'RELAY_HEARTBEAT_INTERVAL_MS: expected a positive integer, got "1e3"',
    ],
    [
      'RELAY_HEARTBEAT_TIMEOUT_MS',
      'soon',
      'RELAY_HEARTBEAT_TIMEOUT_MS: expected a positive integer, got "soon"',
    ],
    [
      'RELAY_HEARTBEAT_TIMEOUT_MS',
      '9999999999',
      'RELAY_HEARTBEAT_TIMEOUT_MS: expected an integer of at most 2147483647, got "9999999999"',
    ],
    ['HEALTH_PORT', '-1', 'HEALTH_PORT: expected a non-negative integer, got "-1"'],
    ['HEALTH_PORT', '70000', 'HEALTH_PORT: expected an integer of at most 65535, got "70000"'],
    [
      'DATABASE_URL',
      'mysql://root:hunter2@db/relay',
      'DATABASE_URL: expected a postgres:// or postgresql:// URL, got "mysql://***@db/relay"',
    ],
    [
      // `#` in the password: the string is no URL at all, its password is masked all the same.
      'DATABASE_URL',
      'postgres://relay:s3cr#t@127.0.0.1/relay',
      'DATABASE_URL: expected a postgres:// or postgresql:// URL, got "postgres://***@127.0.0.1/relay"',
    ],
    [
      'REDIS_URL',
      'http://:p@ss@cache:6379',
      'REDIS_URL: expected a redis:// or rediss:// URL, got "http://***@cache:6379"',
    ],
    [
      'DATABASE_URL',
      'localhost:5432',
      'DATABASE_URL: expected a postgres:// or postgresql:// URL, got "localhost:5432"',
    ],
    [
      'DATABASE_URL',
      'postgres://relay:s3cret@db/relay?sslmode=requried',
      'DATABASE_URL: expected a postgres:// URL whose sslmode is one of disable, allow, prefer, require, verify-ca, verify-full, got "postgres://***@db/relay?sslmode=requried"',
    ],
    [
      'REDIS_URL',
      'http://cache:6379',
      'REDIS_URL: expected a redis:// or rediss:// URL, got "http://cache:6379"',
    ],
    ['REDIS_URL', 'not a url', 'REDIS_URL: expected a redis:// or rediss:// URL, got "not a url"'],
    [
      'REDIS_URL',
      'redis://127.0.0.1:6379/abc',
      'REDIS_URL: expected a redis:// or rediss:// URL whose path is a database number like /2, got "redis://127.0.0.1:6379/abc"',
    ],
    [
      'REDIS_URL',
      'redis://127.0.0.1:6379/1/2',
      'REDIS_URL: expected a redis:// or rediss:// URL whose path is a database number like /2, got "redis://127.0.0.1:6379/1/2"',
    ],
    [
      'RELAY_PREFIX',
      'has space',
      'RELAY_PREFIX: expected 1 to 64 characters of A-Z a-z 0-9 . _ : -, got "has space"',
    ],
    [
      'RELAY_PREFIX',
      'x'.repeat(65),
      `RELAY_PREFIX: expected 1 to 64 characters of A-Z a-z 0-9 . _ : -, got "${'x'.repeat(65)}"`,
    ],
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
    [
      'LOG_LEVEL',
      'INFO',
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "INFO"',
    ],
  ])('rejects %s=%j with one line naming it', (name, value, message) => {
    const error = configErrorOf(() => parseEnv(serviceEnv, { [name]: value }));
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.variable).toBe(name);
  });

  it('reports every bad variable on the same line', () => {
    const error = configErrorOf(() => parseEnv(serviceEnv, { HEALTH_PORT: 'x', LOG_LEVEL: 'loud' }));
    expect(error.issues.map((issue) => issue.variable)).toEqual(['LOG_LEVEL', 'HEALTH_PORT']);
    expect(error.message).toBe(
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"; ' +
        'HEALTH_PORT: expected a non-negative integer, got "x"',
    );
  });
});

describe('parseEnv with custom entries', () => {
  const schema = v.object({
    API_TOKEN: envString(),
    WORKERS: envInt({ min: 2, max: 8, default: 4 }),
    DEBUG: envBool(false),
    MODE: envEnum(['fast', 'safe'], 'safe'),
    PORT: envPort(8080),
    UPSTREAM: envUrl(['http:', 'https://']),
  });
  const required = { API_TOKEN: 't0ken', UPSTREAM: 'https://example.com' };

  it('names a required variable that is not set', () => {
    const error = configErrorOf(() => parseEnv(schema, { UPSTREAM: 'http://x' }));
    expect(error.message).toBe('API_TOKEN: required, not set');
  });

  it('never prints the value of a secret variable', () => {
    const tokenSchema = v.object({
      RELAY_API_TOKEN: envString(undefined, { pattern: /^\S+$/, expected: 'no spaces' }),
    });
    const error = configErrorOf(() => parseEnv(tokenSchema, { RELAY_API_TOKEN: 'my secret' }));
    expect(error.message).toBe('RELAY_API_TOKEN: no spaces, got [redacted]');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['YES', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('reads DEBUG=%s as %s', (raw, expected) => {
    expect(parseEnv(schema, { ...required, DEBUG: raw }).DEBUG).toBe(expected);
  });

  it.each([
    ['DEBUG', 'maybe', 'DEBUG: expected true or false (also 1/0, yes/no, on/off), got "maybe"'],
    ['WORKERS', '1', 'WORKERS: expected an integer of at least 2, got "1"'],
    ['WORKERS', '9', 'WORKERS: expected an integer of at most 8, got "9"'],
    ['MODE', 'slow', 'MODE: expected one of fast, safe, got "slow"'],
    ['PORT', 'http', 'PORT: expected a non-negative integer, got "http"'],
    ['UPSTREAM', 'ftp://x', 'UPSTREAM: expected a http:// or https:// URL, got "ftp://x"'],
  ])('rejects %s=%j', (name, value, message) => {
    expect(configErrorOf(() => parseEnv(schema, { ...required, [name]: value })).message).toBe(message);
  });

  it('applies custom defaults', () => {
    expect(parseEnv(schema, required)).toEqual({
      ...required,
      WORKERS: 4,
      DEBUG: false,
      MODE: 'safe',
      PORT: 8080,
    });
  });
});

describe('checkHeartbeatWindow', () => {
  const schema = v.pipe(v.object(commonEnv), checkHeartbeatWindow());

  it('accepts a timeout above the interval', () => {
    expect(parseEnv(schema, { RELAY_HEARTBEAT_TIMEOUT_MS: '2001' }).RELAY_HEARTBEAT_TIMEOUT_MS).toBe(2001);
  });

  it('rejects a timeout not above the interval, naming the timeout', () => {
    const error = configErrorOf(() => parseEnv(schema, { RELAY_HEARTBEAT_TIMEOUT_MS: '2000' }));
    expect(error.message).toBe(
      'RELAY_HEARTBEAT_TIMEOUT_MS: expected more than RELAY_HEARTBEAT_INTERVAL_MS (2000), got "2000"',
    );
  });

  it('says when the default timeout is what conflicts', () => {
    const error = configErrorOf(() => parseEnv(schema, { RELAY_HEARTBEAT_INTERVAL_MS: '20000' }));
    expect(error.message).toBe(
      'RELAY_HEARTBEAT_TIMEOUT_MS: expected more than RELAY_HEARTBEAT_INTERVAL_MS (20000) (default)',
    );
  });
});
