import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/ensure-relay-db.sh against the local Postgres, as `npm run up` runs it, with a role and a
// database of its own whose names and password need quoting.
const script = fileURLToPath(new URL('../../scripts/ensure-relay-db.sh', import.meta.url));
const admin = ['-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', '-d', 'postgres', '-qtAX'];
const hasPsql = (() => {
  try {
    execFileSync('psql', [...admin, '-c', 'SELECT 1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const suffix = randomBytes(4).toString('hex');
const role = `relay_ensure "${suffix}'`;
const database = `relay ensure-${suffix}`;
const password = `p@ss:w'rd"${suffix}`;
const url = `postgres://${encodeURIComponent(role)}:${encodeURIComponent(password)}@127.0.0.1:5432/${encodeURIComponent(database)}`;

function run(env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('bash', [script], { env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function adminQuery(sql: string, vars: Record<string, string> = {}): string {
  const args = Object.entries(vars).flatMap(([name, value]) => ['-v', `${name}=${value}`]);
  return execFileSync('psql', [...admin, '-v', 'ON_ERROR_STOP=1', ...args], { input: sql })
    .toString()
    .trim();
}

describe.skipIf(!hasPsql)('scripts/ensure-relay-db.sh', () => {
  afterAll(() => {
    adminQuery(`DROP DATABASE IF EXISTS :"database";\nDROP ROLE IF EXISTS :"role";`, { database, role });
  });

  it('creates the role and the database DATABASE_URL names, then leaves them be', async () => {
    const first = await run({ DATABASE_URL: url });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(
      `ensure-relay-db: created role ${role}\nensure-relay-db: created database ${database}\n`,
    );
    const owner = adminQuery(
      `SELECT r.rolname || '|' || r.rolcanlogin || '|' || r.rolcreatedb FROM pg_database d
       JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = :'database';`,
      { database },
    );
    expect(owner).toBe(`${role}|true|true`);

    // DATABASE_URL now answers, so a second run has nothing to do.
    const who = execFileSync('psql', [url, '-qtAXc', 'SELECT current_user'], {
      env: { ...process.env, PGPASSWORD: '' },
    });
    expect(who.toString().trim()).toBe(role);
    expect(await run({ DATABASE_URL: url })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('fails with a message when DATABASE_URL is not a postgres URL', async () => {
    const { code, stderr } = await run({ DATABASE_URL: 'mysql://x@127.0.0.1/y' });
    expect(code).toBe(1);
    expect(stderr).toContain('DATABASE_URL is not a postgres://');
  });
});
