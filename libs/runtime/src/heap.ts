/**
 * Old-generation heap limit every service process is started with (`relay up`, the bench, the
 * container images). V8 otherwise lets garbage pile up far beyond the live data before a full
 * collection: a scheduler working through a 100,000-task fan-out peaked near 500 MB RSS with about
 * 80 MB live; with this limit it stays under 300 MB at the same throughput.
 */
export const SERVICE_MAX_OLD_SPACE_MB = 256;

/**
 * NODE_OPTIONS for a service process: `existing` plus `--max-old-space-size`, unless `existing`
 * already sets one (an operator's choice wins).
 */
export function serviceNodeOptions(existing: string | undefined = undefined): string {
  const current = (existing ?? '').trim();
  if (/--max-old-space-size[= ]/.test(current)) return current;
  return [current, `--max-old-space-size=${SERVICE_MAX_OLD_SPACE_MB}`].filter(Boolean).join(' ');
}
