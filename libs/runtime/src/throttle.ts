/** Decision of a throttle: whether to emit now, and how many events were swallowed since the last emit. */
export interface ThrottleDecision {
  readonly emit: boolean;
  readonly suppressed: number;
}

/**
 * Rate-limits repeated events per kind: the first event of a kind is emitted, later ones only once
 * `intervalMs` has passed since the last emitted one. Time comes in as an argument.
 */
export function createThrottle(intervalMs: number): (kind: string, now: number) => ThrottleDecision {
  const state = new Map<string, { lastEmit: number; suppressed: number }>();
  return (kind, now) => {
    const entry = state.get(kind);
    if (entry === undefined || now - entry.lastEmit >= intervalMs) {
      const suppressed = entry?.suppressed ?? 0;
      state.set(kind, { lastEmit: now, suppressed: 0 });
      return { emit: true, suppressed };
    }
    entry.suppressed += 1;
    return { emit: false, suppressed: entry.suppressed };
  };
}
