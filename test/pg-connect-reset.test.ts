import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./support/pg-connect-reset-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const TARGET = new URL(process.env.DATABASE_URL ?? 'postgres://relay:relay@127.0.0.1:5432/relay');

// A TCP proxy to Postgres that resets the first connection when the client sends postgres.js's
// array-type query, as a server restarting during a new connection's handshake does.
let proxy: Server;
let cuts = 0;
const sockets: Socket[] = [];
beforeAll(async () => {
  proxy = createServer((client) => {
    const server = connect(Number(TARGET.port || 5432), TARGET.hostname);
    sockets.push(client, server);
    client.on('data', (chunk: Buffer) => {
      if (cuts === 0 && chunk.includes('pg_catalog.pg_type')) {
        cuts += 1;
        client.resetAndDestroy();
        server.destroy();
        return;
      }
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => proxy.close(resolve));
});

describe('a Postgres connection cut during its handshake', () => {
  it('fails the waiting query but does not take the process down', async () => {
    const address = proxy.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = new URL(TARGET);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const child = spawn(
      process.execPath,
      ['--conditions=relay-source', '--import', 'tsx', CHILD, url.toString()],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const records = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { msg: string; level: number | string; err?: { code?: string } });
    expect(cuts).toBe(1);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // postgres.js drops the type fetch's promise: its rejection surfaces with nobody listening.
    expect(
      records.find((r) => r.msg.startsWith('connection lost in a promise nobody awaited')),
    ).toMatchObject({
      err: { code: 'ECONNRESET' },
    });
    expect(records.at(-1)).toMatchObject({ msg: 'still running' });
  });
});
