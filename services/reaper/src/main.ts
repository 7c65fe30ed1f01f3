import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadReaperConfig, SHUTDOWN_GRACE_MS } from './config.js';
import { startReaper } from './service.js';

const config = exitOnConfigError(() => loadReaperConfig());
const logger = createLogger({ service: 'reaper', level: config.LOG_LEVEL, instance: instanceId('reaper') });
installProcessGuards(logger);
const reaper = await exitOnConfigError(() => startReaper(config, { logger }));
onShutdown(() => reaper.stop(), { logger, graceMs: SHUTDOWN_GRACE_MS });
