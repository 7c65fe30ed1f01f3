import type { WorkflowIssue } from './types.js';

/**
 * Renders an issue for people: `tasks.charge.needs[0]: needs unknown task "fech" (line 9, column 13)`.
 */
export function formatIssue(issue: WorkflowIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column ?? 1})`;
  return `${issue.path ? `${issue.path}: ` : ''}${issue.message}${where}`;
}

/** A workflow document that failed validation. Permanent: the document must change. */
export class WorkflowValidationError extends Error {
  /** Every issue found, in document order where known. */
  readonly issues: readonly WorkflowIssue[];

  constructor(issues: readonly WorkflowIssue[]) {
    const lines = issues.map(formatIssue);
    super(
      issues.length === 1
        ? `invalid workflow: ${lines[0]}`
        : `invalid workflow (${issues.length} issues):\n${lines.map((l) => `- ${l}`).join('\n')}`,
    );
    this.name = 'WorkflowValidationError';
    this.issues = issues;
  }
}
