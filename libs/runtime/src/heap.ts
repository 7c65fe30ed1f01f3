/**
 * Old-generation heap limit every service process is started with (`relay up`, the bench, and
 * NODE_OPTIONS in infra/k8s: `relay start` runs the service in its own process and cannot set it).
 * V8 otherwise lets garbage pile up far beyond the live data before a full collection: a scheduler working through a 100,000-task fan-out peaked near 500 MB RSS with about
 * 80 MB live; with this limit it stays under 300 MB at the same throughput.
 */
export const SERVICE_MAX_OLD_SPACE_MB = 256;

/**
 * Young-generation semi-space of the worker and the dispatcher. Their work is a stream of small
 * objects that die within a batch (envelopes, Redis commands, result rows, an attempt's promises)
 * over a small live heap, and at V8's default of 16 MB scavenges took about 15 % of their CPU during
 * a fan-out; at 32 MB they scavenge half as often. It costs them about 30 MB of RSS (worker 150 ->
 * 180 MB at a 100,000-task fan-out). The scheduler keeps the default: it took 30 MB more as well,
 * which put it over its 300 MB budget at that size (279 -> 310-315 MB).
 */
export const CHURNING_SERVICE_SEMI_SPACE_MB = 32;

const CHURNING_SERVICES: ReadonlySet<string> = new Set(['worker', 'dispatcher']);

/**
 * NODE_OPTIONS for a service process: `existing` plus `--max-old-space-size`, and for the worker and
 * the dispatcher `--max-semi-space-size`, each unless `existing` already sets it (an operator's
 * choice wins).
 */
export function serviceNodeOptions(existing: string | undefined = undefined, service?: string): string {
  const current = (existing ?? '').trim();
  const parts = [current];
  if (!/--max-old-space-size[= ]/.test(current))
    parts.push(`--max-old-space-size=${SERVICE_MAX_OLD_SPACE_MB}`);
  if (service !== undefined && CHURNING_SERVICES.has(service) && !/--max-semi-space-size[= ]/.test(current)) {
    parts.push(`--max-semi-space-size=${CHURNING_SERVICE_SEMI_SPACE_MB}`);
  }
  return parts.filter(Boolean).join(' ');
}
