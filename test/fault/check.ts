import type { Sql } from '@relay/db';
import { checkInvariants, type Violation } from '@relay/invariants';
import { FAULT_ENV } from './fleet.js';

/**
 * checkInvariants over the whole database (runIds = []) and over `runIds`, concatenated, so a test
 * asserts `toEqual([])`.
 */
export async function findViolations(sql: Sql, runIds: readonly string[]): Promise<Violation[]> {
  const heartbeatTimeoutMs = Number(FAULT_ENV.RELAY_HEARTBEAT_TIMEOUT_MS);
  return [
    ...(await checkInvariants(sql, { runIds: [], heartbeatTimeoutMs })),
    ...(await checkInvariants(sql, { runIds: [...runIds], heartbeatTimeoutMs })),
  ];
}
