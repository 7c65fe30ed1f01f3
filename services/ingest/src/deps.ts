import type { Bus } from '@relay/bus';
import type { Logger, Registry } from '@relay/runtime';
import type { IngestConfig } from './config.js';
import type { Repository } from './repository.js';

/** A readiness probe: resolves when the dependency answers, rejects (or resolves false) when it does not. */
export type ReadinessCheck = () => Promise<unknown>;

/** Everything the HTTP app needs; main.ts builds the real ones, tests build their own. */
export interface AppDeps {
  repo: Repository;
  bus: Pick<Bus, 'publish'>;
  config: Pick<IngestConfig, 'apiToken' | 'maxBodyBytes' | 'requestTimeoutMs'>;
  logger: Logger;
  registry: Registry;
  /** Named probes for /readyz, e.g. `{ postgres, redis }`. */
  checks: Record<string, ReadinessCheck>;
}
