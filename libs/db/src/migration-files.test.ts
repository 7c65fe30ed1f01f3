import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationFileError } from './errors.js';
import { RELAY_TABLES } from './migrate.js';
import { computeChecksum, defaultMigrationsDir, readMigrationFiles } from './migration-files.js';

const dirs: string[] = [];
async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-migrations-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('readMigrationFiles', () => {
  it('orders files by number and ignores non-sql files', async () => {
    const dir = await dirWith({ '010_ten.sql': 'SELECT 10;', '002_two.sql': 'SELECT 2;', 'README.md': '#' });
    const files = await readMigrationFiles(dir);
    expect(files.map((file) => [file.name, file.version])).toEqual([
      ['002_two.sql', 2],
      ['010_ten.sql', 10],
    ]);
    expect(files[0]?.checksum).toBe(computeChecksum('SELECT 2;'));
    expect(files[0]?.sql).toBe('SELECT 2;');
  });

  it.each([
    [{ '1_init.sql': '' }, /must be named NNN_name.sql/],
    [{ '001_Init.sql': '' }, /must be named NNN_name.sql/],
    [{ 'init.sql': '' }, /init\.sql must be named/],
    [{ '001_a.sql': '', '001_b.sql': '' }, /001_a\.sql and 001_b\.sql share the number 001/],
    [{ 'notes.txt': '' }, /holds no NNN_name.sql file/],
  ])('rejects %j', async (files, message) => {
    const dir = await dirWith(files);
    const error = await readMigrationFiles(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(MigrationFileError);
    expect((error as Error).message).toMatch(message);
  });

  it('names a missing directory', async () => {
    await expect(readMigrationFiles('/nonexistent/relay-migrations')).rejects.toThrow(
      /cannot read migrations directory \/nonexistent\/relay-migrations/,
    );
  });

  it('finds the repository migrations from the package location', async () => {
    expect(defaultMigrationsDir()).toMatch(/infra\/migrations\/?$/);
    const names = (await readMigrationFiles(defaultMigrationsDir())).map((file) => file.name);
    expect(names.slice(0, 2)).toEqual(['001_init.sql', '002_pipeline.sql']);
  });

  it('RELAY_TABLES (what readiness requires) names every table the migrations create', async () => {
    const created = (await readMigrationFiles(defaultMigrationsDir())).flatMap((file) =>
      [...file.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((match) => match[1]),
    );
    expect(created.sort()).toEqual([...RELAY_TABLES].sort());
  });
});

describe('computeChecksum', () => {
  it('is the hex sha256 of the bytes', () => {
    expect(computeChecksum('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
