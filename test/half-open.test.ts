import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tcpTimeoutsSupported } from '@relay/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./support/half-open-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const POSTGRES = new URL(process.env.DATABASE_URL ?? 'postgres://relay:relay@127.0.0.1:5432/relay');
const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

// A server that vanishes without a word (its host died, a failover moved its address) is a link that
// goes silent: no reset, no FIN. Loopback cannot do that, so the client runs in a network namespace
// joined to this one by a veth pair, and reaches Postgres and Redis through forwarders on the host
// side; the test takes the host end of the pair down. That needs root and `ip` (CI runs as root).
const N = process.pid % 250;
const NS = `relay-ho-${process.pid}`;
const HOST_IF = `rlho${process.pid}a`.slice(0, 15);
const NS_IF = `rlho${process.pid}b`.slice(0, 15);
const HOST_IP = `10.213.${N}.1`;
const NS_IP = `10.213.${N}.2`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function canMakeNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

const supported = canMakeNamespaces() && tcpTimeoutsSupported();
const forwarders: Server[] = [];
const sockets: Socket[] = [];

/** Listens on the host end of the pair and forwards each connection to `target`; returns its port. */
async function forward(target: URL, defaultPort: number): Promise<number> {
  const forwarder = createServer((client) => {
    const server = connect(Number(target.port || defaultPort), target.hostname);
    sockets.push(client, server);
    client.pipe(server).pipe(client);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
  });
  forwarders.push(forwarder);
  await new Promise<void>((resolve) => forwarder.listen(0, HOST_IP, resolve));
  return (forwarder.address() as { port: number }).port;
}

const urls = { postgres: '', redis: '' };

beforeAll(async () => {
  if (!supported) return;
  ip('netns', 'add', NS);
  ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
  ip('link', 'set', NS_IF, 'netns', NS);
  ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF);
  ip('link', 'set', HOST_IF, 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_IP}/30`, 'dev', NS_IF);
  ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
  for (const [name, target, port] of [
    ['postgres', POSTGRES, 5432],
    ['redis', REDIS, 6379],
  ] as const) {
    const url = new URL(target);
    url.hostname = HOST_IP;
    url.port = String(await forward(target, port));
    urls[name] = url.toString();
  }
});

afterAll(async () => {
  if (!supported) return;
  for (const s of sockets) s.destroy();
  await Promise.all(forwarders.map((f) => new Promise((resolve) => f.close(resolve))));
  // Deleting the namespace deletes its end of the pair, and with it the host end.
  ip('netns', 'del', NS);
});

interface Outcome {
  connection: string;
  result: string;
  ms: number;
}

/** Starts the child in the namespace, cuts the link once it is ready, and returns each pool's outcome. */
async function cutUnder(mode: 'relay' | 'kernel'): Promise<Outcome[]> {
  ip('link', 'set', HOST_IF, 'up');
  const child: ChildProcessWithoutNullStreams = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      process.execPath,
      '--conditions=relay-source',
      '--import',
      'tsx',
      CHILD,
      urls.postgres,
      urls.redis,
      mode,
    ],
    { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '' } },
  );
  let stdout = '';
  let stderr = '';
  const records: (Partial<Outcome> & { event?: string })[] = [];
  let onRecord = (): void => {};
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const lines = stdout.split('\n');
    stdout = lines.pop() ?? '';
    for (const line of lines) records.push(JSON.parse(line) as Partial<Outcome> & { event?: string });
    onRecord();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await Promise.race([
    new Promise<void>((resolve) => {
      onRecord = () => records.some((r) => r.event === 'ready') && resolve();
    }),
    closed.then((code) => {
      throw new Error(`the child exited (${code}) before it was ready: ${stderr}`);
    }),
  ]);
  ip('link', 'set', HOST_IF, 'down');
  child.stdin.write('cut\n');
  if (mode === 'relay') {
    await new Promise<void>((resolve) => {
      onRecord = () => records.some((r) => r.event === 'settled') && resolve();
      onRecord();
    });
    ip('link', 'set', HOST_IF, 'up');
    child.stdin.write('restored\n');
  }
  const code = await closed;
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return records
    .filter((r): r is Outcome => r.connection !== undefined)
    .sort((a, b) => a.connection.localeCompare(b.connection));
}

const CONNECTIONS = ['postgres idle', 'postgres waiting', 'redis idle', 'redis waiting'];

describe.skipIf(!supported)('a Postgres or Redis server that goes silent (root: network namespaces)', () => {
  it('fails its connections within the TCP timeouts, sending or awaiting a reply, then reconnects', async () => {
    const outcomes = await cutUnder('relay');
    expect(
      outcomes
        .filter((o) => !o.connection.endsWith('reconnected'))
        .map(({ connection, result }) => ({ connection, result })),
    ).toEqual(CONNECTIONS.map((connection) => ({ connection, result: 'ETIMEDOUT' })));
    // 1.5 s user timeout; 1 s idle then 2 probes 1 s apart: all well before the child gives up at 12 s.
    for (const { ms } of outcomes.filter((o) => o.result === 'ETIMEDOUT')) expect(ms).toBeLessThan(8_000);
    // The link back, every client connects anew (postgres.js through createSql's socket factory).
    expect(
      outcomes
        .filter((o) => o.connection.endsWith('reconnected'))
        .map(({ connection, result }) => ({ connection, result })),
    ).toEqual(
      CONNECTIONS.map((connection) => ({ connection: `${connection}, reconnected`, result: 'answered' })),
    );
  });

  it("leaves them all hanging with the kernel's defaults (what the timeouts are for)", async () => {
    const outcomes = await cutUnder('kernel');
    expect(outcomes.map(({ connection, result }) => ({ connection, result }))).toEqual(
      CONNECTIONS.map((connection) => ({ connection, result: 'pending' })),
    );
  });
});
