import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEmptyTestDatabase, type TestDatabase } from './database.js';
import { holdInTransaction } from './hold.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createEmptyTestDatabase();
  await db.sql`CREATE TABLE held (id int PRIMARY KEY, v int)`;
  await db.sql`INSERT INTO held VALUES (1, 0)`;
});
afterAll(async () => {
  await db?.drop();
});

const lockNow = () => db.sql.begin((tx) => tx`SELECT id FROM held WHERE id = 1 FOR UPDATE NOWAIT`);

it('keeps the row locks its statements took until release, then commits them', async () => {
  const held = await holdInTransaction(db.sql, (tx) => tx`UPDATE held SET v = 1 WHERE id = 1`);
  await expect(lockNow()).rejects.toMatchObject({ code: '55P03' });
  expect(await db.sql`SELECT v FROM held WHERE id = 1`).toEqual([{ v: 0 }]);
  await held.release();
  await expect(lockNow()).resolves.toHaveLength(1);
  expect(await db.sql`SELECT v FROM held WHERE id = 1`).toEqual([{ v: 1 }]);
});

it('rejects with the error of a statement that fails, holding nothing', async () => {
  await expect(holdInTransaction(db.sql, (tx) => tx`SELECT nope FROM held`)).rejects.toMatchObject({
    code: '42703',
  });
  await expect(lockNow()).resolves.toHaveLength(1);
});
