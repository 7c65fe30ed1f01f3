const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Longest duration accepted: what a JavaScript timer can wait (2^31 - 1 ms, about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** Result of {@link parseDuration}: milliseconds, or why the text is not a duration. */
export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

const EXPECTED = 'a duration like 500ms, 10s, 5m or 1h';

/**
 * Parses `500ms`, `10s`, `5m`, `1h`. A decimal number is allowed when it is a whole number of
 * milliseconds (`1.5s`, `0.5m`; not `0.5ms`). No spaces, signs or compound forms (`1m30s`).
 */
export function parseDuration(value: unknown): DurationResult {
  if (typeof value === 'number')
    return { ok: false, reason: `must be ${EXPECTED} (a bare number has no unit)` };
  if (typeof value !== 'string') return { ok: false, reason: `must be ${EXPECTED}` };
  if (/^-\s*\d/.test(value)) return { ok: false, reason: `must not be negative (got "${value}")` };
  const m = DURATION_RE.exec(value);
  if (!m) return { ok: false, reason: `must be ${EXPECTED} (got ${JSON.stringify(value)})` };
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  // Rounding absorbs binary noise (0.1s * 1000 = 100.00000000000001) but not sub-millisecond parts.
  const rounded = Math.round(ms);
  if (Math.abs(ms - rounded) > 1e-6)
    return { ok: false, reason: `must be a whole number of milliseconds (got "${value}")` };
  if (rounded > MAX_DURATION_MS)
    return { ok: false, reason: `must be at most ${MAX_DURATION_MS}ms, about 24.8 days (got "${value}")` };
  return { ok: true, ms: rounded };
}
