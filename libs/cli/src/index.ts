export { type ApiClient, type ApiOptions, apiOptionsFromEnv, createApiClient } from './api-client.js';
export { ApiError, CliError } from './errors.js';
export { formatLogLine } from './log-format.js';
export { createSupervisor, type ServiceSpec } from './supervisor.js';
