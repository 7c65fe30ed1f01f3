import { createRequire } from 'node:module';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTcpTimeouts, type TcpTimeouts, tcpTimeoutsSupported } from './tcp-timeouts.js';

const TIMEOUTS: TcpTimeouts = {
  userTimeoutMs: 12_345,
  keepAliveIdleS: 7,
  keepAliveIntervalS: 3,
  keepAliveCount: 4,
};

/** Reads an int socket option back from the kernel (libc's getsockopt, as the module sets them). */
function readOption(socket: Socket, level: number, name: number): number {
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  const getsockopt = koffi
    .load('libc.so.6')
    .func('int getsockopt(int, int, int, _Out_ uint8_t *, _Inout_ uint32_t *)') as (
    ...args: [number, number, number, Buffer, number[]]
  ) => number;
  const value = Buffer.alloc(4);
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  expect(getsockopt(fd, level, name, value, [4])).toBe(0);
  return value.readInt32LE();
}

const servers: Server[] = [];
const sockets: Socket[] = [];
async function listen(target: number | string): Promise<Server> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(target, resolve));
  return server;
}
async function connected(socket: Socket): Promise<Socket> {
  sockets.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

let tcpPort = 0;
const unixPath = join(tmpdir(), `relay-tcp-timeouts-${process.pid}.sock`);
beforeAll(async () => {
  tcpPort = ((await listen(0)).address() as { port: number }).port;
  await listen(unixPath);
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe.skipIf(process.platform !== 'linux')('applyTcpTimeouts (Linux)', () => {
  it('loads setsockopt', () => {
    expect(tcpTimeoutsSupported()).toBe(true);
  });

  it('sets keepalive and the user timeout on a connected TCP socket, as the kernel reads them back', async () => {
    const socket = await connected(connect(tcpPort, '127.0.0.1'));
    expect(applyTcpTimeouts(socket, TIMEOUTS)).toBe(true);
    expect({
      keepAlive: readOption(socket, 1, 9),
      idle: readOption(socket, 6, 4),
      interval: readOption(socket, 6, 5),
      count: readOption(socket, 6, 6),
      userTimeout: readOption(socket, 6, 18),
    }).toEqual({ keepAlive: 1, idle: 7, interval: 3, count: 4, userTimeout: 12_345 });
  });

  it('changes nothing on a Unix socket, which has no peer to lose', async () => {
    const socket = await connected(connect(unixPath));
    expect(applyTcpTimeouts(socket, TIMEOUTS)).toBe(false);
  });

  it('changes nothing on a socket not yet connected', () => {
    const socket = connect(tcpPort, 'localhost');
    sockets.push(socket);
    expect(applyTcpTimeouts(socket, TIMEOUTS)).toBe(false);
  });

  it('refuses values the kernel refuses, without throwing', async () => {
    const socket = await connected(connect(tcpPort, '127.0.0.1'));
    expect(applyTcpTimeouts(socket, { ...TIMEOUTS, keepAliveIdleS: 0 })).toBe(false);
  });
});
