import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function captureLogger(level: 'info' | 'warn' = 'info', instance?: string) {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const logger = createLogger({ service: 'svc', level, instance, destination });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, records };
}

describe('createLogger', () => {
  it('writes JSON with service, instance, level name, ISO time and message', () => {
    const { logger, records } = captureLogger('info', 'svc-host-1-abc');
    logger.info({ runId: 'r1' }, 'task claimed');
    const [record] = records();
    expect(record).toMatchObject({
      service: 'svc',
      instance: 'svc-host-1-abc',
      level: 'info',
      runId: 'r1',
      msg: 'task claimed',
    });
    expect(new Date(String(record?.time)).toISOString()).toBe(record?.time);
  });

  it('drops lines below its level', () => {
    const { logger, records } = captureLogger('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(records().map((r) => r.msg)).toEqual(['shown']);
  });

  it.each([
    [{ token: 'abc' }, ['token'], 'abc'],
    [{ password: 'hunter2' }, ['password'], 'hunter2'],
    [{ RELAY_API_TOKEN: 'tok-123' }, ['RELAY_API_TOKEN'], 'tok-123'],
    [{ headers: { authorization: 'Bearer tok-1' } }, ['headers', 'authorization'], 'tok-1'],
    [{ req: { headers: { authorization: 'Bearer tok-2' } } }, ['req', 'headers', 'authorization'], 'tok-2'],
    [{ request: { headers: { cookie: 'sid=s3cr3t' } } }, ['request', 'headers', 'cookie'], 's3cr3t'],
    [{ config: { password: 'pw-nested' } }, ['config', 'password'], 'pw-nested'],
    [{ task: { apiToken: 'api-tok' } }, ['task', 'apiToken'], 'api-tok'],
  ])('redacts %j', (fields, path, secret) => {
    const { logger, records } = captureLogger();
    logger.info(fields, 'with secret');
    const record = records()[0];
    const redacted = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], record);
    expect(redacted).toBe('[Redacted]');
    expect(JSON.stringify(record)).not.toContain(secret);
  });

  it.each([
    [{ DATABASE_URL: 'postgres://relay:pw1@db:5432/relay' }, 'DATABASE_URL', 'postgres://***@db:5432/relay'],
    [
      { config: { DATABASE_URL: 'postgresql://u:pw2@db/relay' } },
      'config.DATABASE_URL',
      'postgresql://***@db/relay',
    ],
    [{ config: { REDIS_URL: 'rediss://:pw3@cache:6380' } }, 'config.REDIS_URL', 'rediss://***@cache:6380'],
    [{ url: 'redis://localhost:6379' }, 'url', 'redis://localhost:6379'],
  ])('masks only the user info of connection URLs in %j', (fields, path, expected) => {
    const { logger, records } = captureLogger();
    logger.info(fields, 'connecting');
    const record = records()[0];
    const value = path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown>)[key], record);
    expect(value).toBe(expected);
  });

  it('leaves the logged object itself untouched', () => {
    const { logger } = captureLogger();
    const fields = { token: 'abc', config: { DATABASE_URL: 'postgres://a:b@h/d' } };
    logger.info(fields, 'x');
    expect(fields).toEqual({ token: 'abc', config: { DATABASE_URL: 'postgres://a:b@h/d' } });
  });
});
