import { randomUUID } from 'node:crypto';
import { createLogger, createRedis, type Redis } from '@relay/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, waitFor } from '../test/helpers.js';
import { BlockingConnection } from './blocking-connection.js';
import { BlockingTimeoutError, InterruptedError } from './errors.js';

const logger = createLogger({ service: 'bus-test', level: 'silent' });
const control = createRedis(REDIS_URL, { logger, name: 'bus-test-control' });
const key = `test-bus-${randomUUID()}:list`;
afterAll(async () => {
  await control.del(key);
  await control.quit();
});

const blockingName = `bus-test-blocking-${randomUUID()}`;

function countingOpener(): { open: () => Redis; opened: Redis[] } {
  const opened: Redis[] = [];
  return {
    opened,
    open: () => {
      const client = createRedis(REDIS_URL, { logger, name: blockingName, blocking: true });
      opened.push(client);
      return client;
    },
  };
}

describe('BlockingConnection', () => {
  it('drops a connection whose command outlives the watchdog and opens a new one', async () => {
    const { open, opened } = countingOpener();
    const connection = new BlockingConnection(open, control);
    await expect(connection.run((c) => c.call('BLPOP', [key, 0]), 300)).rejects.toBeInstanceOf(
      BlockingTimeoutError,
    );
    await waitFor('first connection closed', () => opened[0]?.status === 'end');
    expect(await connection.run((c) => c.ping(), 1000)).toBe('PONG');
    expect(opened).toHaveLength(2);
    await connection.close();
  });

  it('interrupts a BLOCK with CLIENT UNBLOCK, keeping the connection', async () => {
    const { open, opened } = countingOpener();
    const connection = new BlockingConnection(open, control);
    await connection.run((c) => c.ping(), 1000);
    const pending = connection.run((c) => c.call('BLPOP', [key, 10]), 20_000);
    // Interrupt once Redis reports the client as blocked.
    await waitFor('client blocked', async () =>
      String(await control.client('LIST'))
        .split('\n')
        .some((line) => line.includes(`name=${blockingName} `) && line.includes('cmd=blpop')),
    );
    connection.interrupt();
    expect(await pending).toBeNull();
    expect(opened).toHaveLength(1);
    expect(opened[0]?.status).toBe('ready');
    await connection.close();
  });

  it('rejects a command not sent yet and every later one once interrupted', async () => {
    const { open } = countingOpener();
    const connection = new BlockingConnection(open, control);
    const pending = connection.run((c) => c.call('BLPOP', [key, 10]), 20_000);
    connection.interrupt();
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
    await expect(connection.run((c) => c.ping(), 1000)).rejects.toBeInstanceOf(InterruptedError);
    await connection.close();
  });
});
