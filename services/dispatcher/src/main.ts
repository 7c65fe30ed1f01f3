import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadDispatcherConfig, SHUTDOWN_GRACE_MS } from './config.js';
import { startDispatcher } from './service.js';

const config = exitOnConfigError(() => loadDispatcherConfig());
const consumer = instanceId('dispatcher');
const logger = createLogger({ service: 'dispatcher', level: config.LOG_LEVEL, instance: consumer });
installProcessGuards(logger);
const dispatcher = await exitOnConfigError(() => startDispatcher(config, { logger, consumer }));
onShutdown(() => dispatcher.stop(), { logger, graceMs: SHUTDOWN_GRACE_MS });
