export {
  type CreateTestDatabaseOptions,
  createEmptyTestDatabase,
  createTestDatabase,
  DEFAULT_TEST_ADMIN_URL,
  type TestDatabase,
} from './database.js';
export { ServiceSpawnError, TestingError, WaitForTimeoutError } from './errors.js';
export { type HeldTransaction, holdInTransaction } from './hold.js';
export { createTestRedis, DEFAULT_TEST_REDIS_URL, deleteRedisPrefix, uniquePrefix } from './redis.js';
export {
  LOG_BUFFER_LINES,
  type ProcessExit,
  type ServiceProcess,
  type SpawnServiceOptions,
  spawnService,
  stopAll,
} from './service-process.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
