/** One step of a document path: a mapping key or a list index. */
export type DocPathSegment = string | number;

/** An issue before it is located in the source text. */
export interface RawIssue {
  path: DocPathSegment[];
  message: string;
}

/** Renders `['tasks', 'charge', 'needs', 0]` as `tasks.charge.needs[0]`. */
export function formatDocPath(path: readonly DocPathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/** True for a plain mapping (not null, not a list). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Edit distance of two short strings (for "did you mean" hints). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** ` (did you mean "x"?)` for the closest candidate within 1 edit per 3 characters, at most 2 (ignoring case, `-`, `_`), else `''`. */
export function suggest(word: string, candidates: Iterable<string>): string {
  const squash = (s: string) => s.toLowerCase().replaceAll(/[-_]/g, '');
  let best: string | undefined;
  // Allow one edit per three characters, so short words get no far-fetched hints.
  let bestDistance = Math.min(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = squash(candidate) === squash(word) ? 0 : distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}
