import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/**
 * How soon a TCP connection to a peer that went silent (its host died, a failover moved its address,
 * a partition) fails instead of hanging. Without these, Linux keeps retransmitting an unanswered
 * query for ~15 minutes (tcp_retries2) and a connection waiting for a reply is probed only after two
 * hours (or postgres.js's 60 s) of silence, and every task behind that connection waits with it.
 * libpq calls these `tcp_user_timeout` and `keepalives_idle` / `_interval` / `_count`.
 */
export interface TcpTimeouts {
  /** Milliseconds sent data may stay unacknowledged, probes included, before the connection fails (ETIMEDOUT). */
  userTimeoutMs: number;
  /** Seconds of silence before the first keepalive probe. */
  keepAliveIdleS: number;
  /** Seconds between keepalive probes. */
  keepAliveIntervalS: number;
  /** Unanswered probes after which the connection fails. */
  keepAliveCount: number;
}

/**
 * Relay's defaults: a dead peer is noticed within about 30 s, whether a query is being sent (user
 * timeout) or its reply awaited (15 s idle, then 3 probes 5 s apart). A live server answers probes
 * from its kernel, so a long statement is never cut short by them.
 */
export const DEFAULT_TCP_TIMEOUTS: TcpTimeouts = {
  userTimeoutMs: 30_000,
  keepAliveIdleS: 15,
  keepAliveIntervalS: 5,
  keepAliveCount: 3,
};

// Linux socket option numbers (<netinet/tcp.h>, <sys/socket.h>).
const SOL_SOCKET = 1;
const SO_KEEPALIVE = 9;
const IPPROTO_TCP = 6;
const TCP_KEEPIDLE = 4;
const TCP_KEEPINTVL = 5;
const TCP_KEEPCNT = 6;
const TCP_USER_TIMEOUT = 18;

type SetSockOpt = (fd: number, level: number, name: number, value: Buffer, length: number) => number;

let setsockopt: SetSockOpt | null | undefined;

/**
 * libc's setsockopt through koffi (prebuilt FFI binaries, so no compiler in the image): Node sets
 * keepalive's idle time only and has no TCP_USER_TIMEOUT. Null off Linux or where koffi cannot load.
 */
function loadSetSockOpt(): SetSockOpt | null {
  if (setsockopt !== undefined) return setsockopt;
  setsockopt = null;
  if (process.platform !== 'linux') return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    setsockopt = libc.func('int setsockopt(int, int, int, const void *, uint32_t)') as SetSockOpt;
  } catch {
    // musl or an unusual libc: the kernel's defaults stay.
  }
  return setsockopt;
}

/** Whether {@link applyTcpTimeouts} can work on this platform. */
export function tcpTimeoutsSupported(): boolean {
  return loadSetSockOpt() !== null;
}

/**
 * Sets `timeouts` on a connected TCP socket. Returns false where it cannot: not Linux, no FFI, not a
 * TCP socket (a Unix socket has no peer to lose; nothing is set), or the kernel refused a value (the
 * options before it stay set).
 */
export function applyTcpTimeouts(socket: Socket, timeouts: TcpTimeouts): boolean {
  const set = loadSetSockOpt();
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (!set || typeof fd !== 'number' || fd < 0 || !socket.remotePort) return false;
  const options: [number, number, number][] = [
    [SOL_SOCKET, SO_KEEPALIVE, 1],
    [IPPROTO_TCP, TCP_KEEPIDLE, timeouts.keepAliveIdleS],
    [IPPROTO_TCP, TCP_KEEPINTVL, timeouts.keepAliveIntervalS],
    [IPPROTO_TCP, TCP_KEEPCNT, timeouts.keepAliveCount],
    [IPPROTO_TCP, TCP_USER_TIMEOUT, timeouts.userTimeoutMs],
  ];
  const value = Buffer.alloc(4);
  for (const [level, name, v] of options) {
    value.writeInt32LE(v);
    if (set(fd, level, name, value, 4) !== 0) return false;
  }
  return true;
}
