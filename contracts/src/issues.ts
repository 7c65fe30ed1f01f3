import * as v from 'valibot';

const MAX_LISTED_ISSUES = 5;

/**
 * Turns valibot issues into one line naming each failing field, e.g.
 * `data.attempt: expected number but received "1"; data.extra: unknown field`.
 * At most five issues are listed; the rest are counted.
 */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
  const rest = issues.length - listed.length;
  return rest > 0 ? `${listed.join('; ')}; and ${rest} more` : listed.join('; ');
}

function formatIssue(issue: v.BaseIssue<unknown>): string {
  const path = v.getDotPath(issue);
  const message = describeIssue(issue, path);
  return path ? `${path}: ${message}` : `envelope: ${message}`;
}

function describeIssue(issue: v.BaseIssue<unknown>, path: string | null): string {
  if (issue.kind === 'validation') return issue.message;
  // Object schemas report a missing key with `expected: '"key"'` and an unknown key (strict
  // objects) with `expected: 'never'`; both carry the key in the path.
  if (path && issue.type === 'strict_object' && issue.expected === 'never') return 'unknown field';
  if (path && issue.input === undefined) return 'required';
  if (issue.type === 'variant' && path === 'type') return `unknown event type ${issue.received}`;
  if (issue.type === 'literal' && path === 'version') return issue.message;
  return `expected ${issue.expected} but received ${issue.received}`;
}
