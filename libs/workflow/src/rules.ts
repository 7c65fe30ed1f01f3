/** Workflow ids, task ids and queue names: `^[a-z0-9][a-z0-9._-]{0,127}$`. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/**
 * Task `type` values (built-in and custom handler names): a letter, then letters, digits, `.`,
 * `_`, `-` or `:`, 128 characters at most. Workers should register handlers under names that match.
 */
export const HANDLER_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._:-]{0,127}$/;

/** Handler names built into every worker. */
export const BUILTIN_TYPES = ['noop', 'sleep', 'shell', 'http'] as const;

/** `with.method` values of an `http` task. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;

/** `with.env` names of a `shell` task. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest `on.event`: the longest event type POST /events takes (contracts' MAX_OPAQUE_ID_LENGTH). */
export const MAX_EVENT_TYPE_LENGTH = 256;

/** Upper bound of `retries`. */
export const MAX_RETRIES = 100;

/** Defaults of a task (docs/ARCHITECTURE.md). */
export const TASK_DEFAULTS = {
  type: 'noop',
  retries: 0,
  backoff: { initialMs: 1000, factor: 2, maxMs: 60_000 },
  timeoutMs: null,
  queue: 'default',
  requiresApproval: false,
} as const;
