import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadReaperConfig } from './config.js';
import { startReaper } from './service.js';

const config = exitOnConfigError(() => loadReaperConfig());
const logger = createLogger({ service: 'reaper', level: config.LOG_LEVEL, instance: instanceId('reaper') });
installProcessGuards(logger);
const reaper = await startReaper(config, { logger });
onShutdown(() => reaper.stop(), { logger, graceMs: 10_000 });
