/**
 * One hop of the bench's floor ring (see ring.ts), run as its own process: reads its stream in a consumer
 * group (XREADGROUP BLOCK), makes one single-row UPDATE with a durable commit per read, XADDs an entry to
 * the next stream and acks. Nothing else: no envelopes, no validation, no logging.
 */
import { createSql } from '@relay/db';
import { createTestRedis } from '@relay/testing';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`ring-hop: ${name} is not set`);
  return value;
};

const sql = createSql(env('RING_DATABASE_URL'), { max: 1, applicationName: 'relay-bench-ring' });
const reader = createTestRedis();
const writer = createTestRedis();
const input = env('RING_IN');
const output = env('RING_OUT');
const row = Number(env('RING_ROW'));
let stopping = false;

process.on('SIGTERM', () => {
  stopping = true;
  reader.disconnect();
});

await sql`SELECT 1`;
await writer.ping();
process.send?.('ready');
while (!stopping) {
  const reply = (await reader
    .xreadgroup('GROUP', 'ring', 'hop', 'COUNT', 100, 'BLOCK', 1000, 'STREAMS', input, '>')
    .catch((err: unknown) => {
      if (stopping) return null;
      throw err;
    })) as [string, [string, string[]][]][] | null;
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) continue;
  await sql`UPDATE ring SET n = n + 1 WHERE id = ${row}`;
  await writer.xadd(output, '*', 'c', String(entries.length));
  await writer.xack(input, 'ring', ...entries.map(([id]) => id));
}
writer.disconnect();
await sql.end({ timeout: 5 });
process.exit(0);
