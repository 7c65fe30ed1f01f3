import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFreshDatabase, type FreshDatabase } from '../test/fresh-database.js';
import { formatMigrateResult, redactUrl, runMigrateCommand } from './migrate-command.js';
import { defaultMigrationsDir, readMigrationFiles } from './migration-files.js';

let db: FreshDatabase;
beforeAll(async () => {
  db = await createFreshDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function run(databaseUrl: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMigrateCommand({ databaseUrl, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('runMigrateCommand', () => {
  it('prints one line per migration and exits 0, then reports them as skipped', async () => {
    const names = (await readMigrationFiles(defaultMigrationsDir())).map((file) => file.name);
    expect(await run(db.url)).toEqual({ code: 0, out: names.map((name) => `applied  ${name}`), err: [] });
    expect(await run(db.url)).toEqual({
      code: 0,
      out: names.map((name) => `skipped  ${name} (already applied)`),
      err: [],
    });
  });

  it.each([
    [
      'postgres://relay:secret@127.0.0.1:1/relay',
      /^migrate failed on postgres:\/\/relay:\*\*\*@127\.0\.0\.1:1\/relay: .*ECONNREFUSED/,
    ],
    ['not a url', /^migrate failed: DATABASE_URL is not a valid URL/],
    [
      'mysql://localhost/relay',
      /^migrate failed: DATABASE_URL must start with postgres:\/\/ or postgresql:\/\/, got mysql:\/\/$/,
    ],
    [
      'postgres://relay:secret@127.0.0.1/relay?sslmode=requried',
      /^migrate failed: DATABASE_URL has sslmode=requried; expected one of disable, allow, prefer, require, verify-ca, verify-full$/,
    ],
  ])('exits 1 with one clear line for %s', async (url, message) => {
    const { code, out, err } = await run(url);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(err[0]).not.toContain('secret');
  });
});

describe('formatMigrateResult', () => {
  it('lists migrations in file order with their outcome', () => {
    expect(
      formatMigrateResult({ applied: ['002_b.sql'], skipped: [], baselined: ['001_a.sql'] }, [
        '001_a.sql',
        '002_b.sql',
      ]),
    ).toEqual([
      "recorded 001_a.sql (its tables already existed, e.g. created by Docker's initdb)",
      'applied  002_b.sql',
    ]);
  });
});

describe('redactUrl', () => {
  it.each([
    ['postgres://u:p@h:5432/d', 'postgres://u:***@h:5432/d'],
    ['postgres://u@h/d', 'postgres://u@h/d'],
    ['::', '<invalid url>'],
  ])('%s -> %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});
