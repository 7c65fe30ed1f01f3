export { canonicalDefinitionJson, type TaskSummary, taskSummary } from './canonical.js';
export { type CronSchedule, checkCron, cronEverFires, nextCronTick, parseCron } from './cron.js';
export { formatDuration, workflowToYaml } from './document.js';
export { type DurationResult, MAX_DURATION_MS, parseDuration } from './duration.js';
export { formatIssue, WorkflowValidationError } from './errors.js';
export { jsonSyntaxErrorOffset, jsonSyntaxErrorPosition } from './json-syntax.js';
export { type DocPathSegment, formatDocPath } from './path.js';
export {
  BUILTIN_TYPES,
  ENV_NAME_PATTERN,
  HANDLER_NAME_PATTERN,
  HTTP_METHODS,
  ID_PATTERN,
  MAX_EVENT_TYPE_LENGTH,
  MAX_RETRIES,
  TASK_DEFAULTS,
} from './rules.js';
export { type ParseOptions, parseWorkflow, parseWorkflowOrThrow } from './source.js';
export { findUnstorableJson, MAX_JSON_DEPTH, unstorableText } from './storable.js';
export type { Backoff, ParseResult, TaskDefinition, WorkflowDefinition, WorkflowIssue } from './types.js';
export { unwrapResult, validateWorkflow } from './validate.js';
