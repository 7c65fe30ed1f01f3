import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadSchedulerConfig, SHUTDOWN_GRACE_MS } from './config.js';
import { startScheduler } from './service.js';

const config = exitOnConfigError(() => loadSchedulerConfig());
const consumer = instanceId('scheduler');
const logger = createLogger({ service: 'scheduler', level: config.LOG_LEVEL, instance: consumer });
installProcessGuards(logger);
const scheduler = await exitOnConfigError(() => startScheduler(config, { logger, consumer }));
onShutdown(() => scheduler.stop(), { logger, graceMs: SHUTDOWN_GRACE_MS });
