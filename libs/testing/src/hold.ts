import type { Sql } from '@relay/db';

/** An open transaction that keeps the locks its statements took until released. */
export interface HeldTransaction {
  /** Commits the transaction (its locks go) and resolves once it has. */
  release(): Promise<void>;
}

/**
 * Runs `take` in a transaction on `sql` and keeps that transaction open: resolves once `take` has
 * finished, so the row locks it took (an UPDATE, `SELECT ... FOR UPDATE`) are held until `release()`.
 * Lets a test stand in for another service holding a row while the code under test reaches it.
 */
export async function holdInTransaction(
  sql: Sql,
  take: (tx: Sql) => Promise<unknown>,
): Promise<HeldTransaction> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let taken: () => void = () => {};
  let failed: (err: unknown) => void = () => {};
  const locked = new Promise<void>((resolve, reject) => {
    taken = resolve;
    failed = reject;
  });
  const done = sql.begin(async (tx) => {
    await take(tx as unknown as Sql);
    taken();
    await released;
  });
  done.catch(failed);
  await locked;
  return {
    async release() {
      release();
      await done;
    },
  };
}
