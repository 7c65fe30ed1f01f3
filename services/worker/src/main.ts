import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadWorkerConfig, shutdownGraceMs } from './config.js';
import { startWorker } from './service.js';

const config = exitOnConfigError(() => loadWorkerConfig());
const workerId = instanceId('worker');
const logger = createLogger({ service: 'worker', level: config.LOG_LEVEL, instance: workerId });
installProcessGuards(logger);
const service = await exitOnConfigError(() => startWorker(config, { logger, workerId }));
onShutdown(() => service.stop(), { logger, graceMs: shutdownGraceMs(config) });
