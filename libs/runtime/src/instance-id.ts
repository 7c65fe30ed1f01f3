import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A process-unique id, `${service}-${hostname}-${pid}-${6 hex chars}`, used as a Redis consumer name and
 * a worker id. The random part keeps ids distinct across container restarts that reuse hostname and pid.
 */
export function instanceId(service: string): string {
  return `${service}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
