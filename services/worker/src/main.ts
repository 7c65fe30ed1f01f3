import {
  createLogger,
  exitOnConfigError,
  installProcessGuards,
  instanceId,
  onShutdown,
} from '@relay/runtime';
import { loadWorkerConfig } from './config.js';
import { startWorker } from './service.js';

const config = exitOnConfigError(() => loadWorkerConfig());
const workerId = instanceId('worker');
const logger = createLogger({ service: 'worker', level: config.LOG_LEVEL, instance: workerId });
installProcessGuards(logger);
const service = await startWorker(config, { logger, workerId });
// The grace period of running tasks, plus time to hand back, write results and close.
onShutdown(() => service.stop(), { logger, graceMs: config.RELAY_WORKER_GRACE_MS + 15_000 });
