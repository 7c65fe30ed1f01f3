/**
 * Crash injection for fault tests. `RELAY_FAULT_EXIT_AT=name` (or `name:N`, the N-th hit) makes the
 * process exit with {@link FAULT_EXIT_CODE} the moment {@link faultPoint}`(name)` runs: no cleanup,
 * no flush, as a crash would. The variable is read once, at module load; when it is unset every call
 * is one comparison against `undefined`.
 * @module
 */

/** Exit code of a process stopped by a fault point. */
export const FAULT_EXIT_CODE = 99;

/** A parsed RELAY_FAULT_EXIT_AT: the point's name and on which hit (1-based) to exit. */
export interface FaultTarget {
  name: string;
  hit: number;
}

/**
 * Parses a RELAY_FAULT_EXIT_AT value: `name` or `name:N` (N a positive integer). Returns undefined for
 * an unset or empty value; throws a RangeError naming the variable for a bad N.
 */
export function parseFaultTarget(value: string | undefined): FaultTarget | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^(.*?)(?::(\d+))?$/.exec(value.trim());
  const name = match?.[1] ?? '';
  const hit = match?.[2] === undefined ? 1 : Number(match[2]);
  if (name === '' || !Number.isSafeInteger(hit) || hit < 1) {
    throw new RangeError(
      `RELAY_FAULT_EXIT_AT: expected "name" or "name:N" with N >= 1, got ${JSON.stringify(value)}`,
    );
  }
  return { name, hit };
}

const target = parseFaultTarget(process.env.RELAY_FAULT_EXIT_AT);
let hits = 0;

/**
 * A named crash point (e.g. `scheduler.after-commit`, between a handler's commit and its publish).
 * Exits the process at once with code 99 when RELAY_FAULT_EXIT_AT names this point and this is the
 * configured hit; otherwise does nothing.
 */
export function faultPoint(name: string): void {
  if (target === undefined || target.name !== name) return;
  hits += 1;
  if (hits < target.hit) return;
  // A crash: no shutdown hooks, no log flush. stderr is written synchronously for the test's logs.
  process.stderr.write(`fault point ${name} hit ${hits}: exiting with ${FAULT_EXIT_CODE}\n`);
  process.exit(FAULT_EXIT_CODE);
}
