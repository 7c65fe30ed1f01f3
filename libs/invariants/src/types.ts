/** The rules checkInvariants verifies. */
export type InvariantRule =
  | 'need_not_succeeded'
  | 'finished_run_has_open_task'
  | 'success_run_incomplete'
  | 'remaining_tasks_mismatch'
  | 'attempt_skipped'
  | 'attempt_from_future'
  | 'success_without_history'
  | 'running_without_owner';

/** One broken invariant, as data. */
export interface Violation {
  rule: InvariantRule;
  runId: string;
  taskId?: string;
  detail: string;
}

/** Options of checkInvariants. */
export interface CheckOptions {
  /** Only these runs (default: every run). */
  runIds?: readonly string[];
  /** RELAY_HEARTBEAT_TIMEOUT_MS of the fleet (default 10 000). */
  heartbeatTimeoutMs?: number;
  /** Slack past the timeout before a RUNNING row counts as ownerless (default 5 000: reaper period + batch). */
  heartbeatMarginMs?: number;
}
