import type { Sql } from '@relay/db';
import { FAULT_ENV } from './fleet.js';

/** What @relay/invariants reports. */
export interface Violation {
  [key: string]: unknown;
}

type CheckInvariants = (
  sql: Sql,
  opts?: { runIds?: readonly string[]; heartbeatTimeoutMs?: number },
) => Promise<Violation[]>;

// TEMPORARY until part A lands: swapped for a static import of @relay/invariants.
const INVARIANTS = '@relay/invariants';

/**
 * checkInvariants over the whole database (runIds = []) and over `runIds`; returns both lists of
 * violations concatenated, so a test asserts `toEqual([])`.
 */
export async function findViolations(sql: Sql, runIds: readonly string[]): Promise<Violation[]> {
  const mod = (await import(INVARIANTS)) as { checkInvariants: CheckInvariants };
  const heartbeatTimeoutMs = Number(FAULT_ENV.RELAY_HEARTBEAT_TIMEOUT_MS);
  return [
    ...(await mod.checkInvariants(sql, { runIds: [], heartbeatTimeoutMs })),
    ...(await mod.checkInvariants(sql, { runIds, heartbeatTimeoutMs })),
  ];
}
