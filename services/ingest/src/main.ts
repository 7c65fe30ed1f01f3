import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadConfig, SHUTDOWN_GRACE_MS } from './config.js';
import { startIngest } from './service.js';

// Wiring only: config -> logger -> service; SIGTERM/SIGINT -> stop (drain requests, close clients).
const config = exitOnConfigError(() => loadConfig());
const logger = createLogger({ service: 'ingest', level: config.logLevel, instance: instanceId('ingest') });
installProcessGuards(logger);
const service = await exitOnConfigError(() => startIngest(config, { logger }));
onShutdown(() => service.stop(), { logger, graceMs: SHUTDOWN_GRACE_MS });
