// A process with Postgres pools and Redis clients behind a link the test cuts (used by
// half-open.test.ts). Argv: the Postgres URL, the Redis URL, then `relay` (Relay's TCP timeouts,
// shortened) or `kernel` (the kernel's own). Prints JSON lines: `ready` once one connection of each
// kind is idle after a command and the other waits on one (a 30 s pg_sleep, an XREAD BLOCK 0); after
// the test writes a line to stdin (the link is down), uses the idle ones and prints what each
// connection came to (`answered`, the error code that failed it, or `pending` after 12 s). With
// `relay`, it then prints `settled`, and after a second line (the link is back) uses every
// connection again and prints what each came to. Then it exits.
import { createInterface } from 'node:readline';
import { createSql } from '@relay/db';
import { createLogger, createRedis, type TcpTimeouts } from '@relay/runtime';

const [pgUrl = '', redisUrl = '', mode = 'relay'] = process.argv.slice(2);
const tcpTimeouts: TcpTimeouts =
  mode === 'kernel'
    ? { userTimeoutMs: 0, keepAliveIdleS: 7200, keepAliveIntervalS: 75, keepAliveCount: 9 }
    : { userTimeoutMs: 1500, keepAliveIdleS: 1, keepAliveIntervalS: 1, keepAliveCount: 2 };
const print = (record: object) => process.stdout.write(`${JSON.stringify(record)}\n`);
const logger = createLogger({ service: 'half-open', level: 'silent' });
const sql = () => createSql(pgUrl, { max: 1, applicationName: 'relay-half-open', tcpTimeouts });
const redis = (blocking: boolean) =>
  createRedis(redisUrl, { logger, name: 'half-open', blocking, tcpTimeouts, errorLogIntervalMs: 0 });

const pgIdle = sql();
const pgWaiting = sql();
const redisIdle = redis(false);
const redisWaiting = redis(true);
await pgIdle`SELECT 1`;
const [{ pid }] = await pgWaiting<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
await redisIdle.ping();
const redisWaitingId = Number(await redisWaiting.client('ID'));

const outcome = (query: Promise<unknown>) =>
  query.then(
    () => 'answered',
    (err: { code?: string }) => err.code ?? String(err),
  );
// ioredis resends a command after a reconnect: what fails is the connection, seen as an 'error'.
const connectionError = (client: ReturnType<typeof redis>) =>
  new Promise<string>((resolve) =>
    client.once('error', (err: { code?: string }) => resolve(err.code ?? 'error')),
  );
const pgSleeping = outcome(pgWaiting`SELECT pg_sleep(30)`);
redisWaiting.xread('BLOCK', 0, 'STREAMS', `half-open-${process.pid}`, '$').catch(() => {});
const redisWaitingLost = connectionError(redisWaiting);
// Once both servers run them, the commands were received (and acknowledged): those connections only wait.
for (;;) {
  const [{ sleeping }] = await pgIdle<[{ sleeping: boolean }]>`
    SELECT EXISTS (SELECT FROM pg_stat_activity
                   WHERE pid = ${pid} AND state = 'active' AND query LIKE 'SELECT pg_sleep%') AS sleeping`;
  const blocked = String(await redisIdle.client('LIST', 'ID', redisWaitingId)).includes('cmd=xread');
  if (sleeping && blocked) break;
  await new Promise((resolve) => setTimeout(resolve, 20));
}
print({ event: 'ready' });

const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => lines.once('line', resolve));
const cutAt = performance.now();
const settle = (connection: string, result: Promise<string>) =>
  Promise.race([result, new Promise<string>((resolve) => setTimeout(() => resolve('pending'), 12_000))]).then(
    (result) => print({ connection, result, ms: Math.round(performance.now() - cutAt) }),
  );
const redisIdleLost = connectionError(redisIdle);
redisIdle.ping().catch(() => {});
await Promise.all([
  settle('postgres idle', outcome(pgIdle`SELECT 1`)),
  settle('postgres waiting', pgSleeping),
  settle('redis idle', redisIdleLost),
  settle('redis waiting', redisWaitingLost),
]);
if (mode === 'relay') {
  // Once the test has the link back up (a second line), each client connects anew and answers. The
  // blocking client resends its XREAD BLOCK 0 first, so a PING would wait behind it: it counts as
  // answering once it is ready again.
  const redisWaitingBack = new Promise<string>((resolve) =>
    redisWaiting.once('ready', () => resolve('answered')),
  );
  print({ event: 'settled' });
  await new Promise((resolve) => lines.once('line', resolve));
  await Promise.all([
    settle('postgres idle, reconnected', outcome(pgIdle`SELECT 1`)),
    settle('postgres waiting, reconnected', outcome(pgWaiting`SELECT 1`)),
    settle('redis idle, reconnected', outcome(redisIdle.ping())),
    settle('redis waiting, reconnected', redisWaitingBack),
  ]);
}
process.exit(0);
