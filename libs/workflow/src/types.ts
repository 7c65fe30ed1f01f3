import type { JsonValue } from '@relay/template';

/** Retry delays of a task: `initialMs * factor^(n-1)`, capped at `maxMs`. */
export interface Backoff {
  initialMs: number;
  factor: number;
  maxMs: number;
}

/** One task of a normalized workflow (docs/ARCHITECTURE.md). */
export interface TaskDefinition {
  id: string;
  /** Dependencies as written in the document; `[]` for roots. */
  needs: string[];
  /** Handler name; `'noop'` by default. */
  type: string;
  /** Handler input, templates unresolved; `{}` by default. */
  with: { [key: string]: JsonValue };
  /** Attempts after the first; 0 by default. */
  retries: number;
  backoff: Backoff;
  /** Per attempt; null = no timeout. */
  timeoutMs: number | null;
  /** Worker pool; `'default'` by default. */
  queue: string;
  requiresApproval: boolean;
}

/** A validated workflow with defaults applied, as stored in `workflows.definition`. */
export interface WorkflowDefinition {
  id: string;
  /** Defaults to `id`. */
  name: string;
  /** Triggers besides the API; `{}` when absent. */
  on: { event?: string; schedule?: string };
  /** In document order. */
  tasks: TaskDefinition[];
}

/** One problem found in a workflow document. */
export interface WorkflowIssue {
  /** Document path, e.g. `tasks.charge.needs[0]`; `''` for the whole document. */
  path: string;
  /** What is wrong, without the path (see `formatIssue`). */
  message: string;
  /** 1-based position in the source text, when known. */
  line?: number;
  column?: number;
}

/** Outcome of parsing or validating a workflow: a definition or every issue found. */
export type ParseResult =
  | { ok: true; definition: WorkflowDefinition }
  | { ok: false; issues: WorkflowIssue[] };
