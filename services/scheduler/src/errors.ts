/** Base class of the scheduler's own errors. */
export class SchedulerError extends Error {
  override name = 'SchedulerError';
}

/** A run pins a workflow version whose row is missing or whose definition cannot be read. */
export class DefinitionNotFoundError extends SchedulerError {
  override name = 'DefinitionNotFoundError';
  constructor(
    readonly workflowId: string,
    readonly version: number,
    options?: { cause?: unknown },
  ) {
    super(`workflow_versions row ${workflowId}@${version} not found`, options);
  }
}
