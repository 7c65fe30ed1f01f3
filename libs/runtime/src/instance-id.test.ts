import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { instanceId } from './instance-id.js';

describe('instanceId', () => {
  it('is service, hostname, pid and a random suffix', () => {
    const id = instanceId('worker');
    expect(id.startsWith(`worker-${hostname()}-${process.pid}-`)).toBe(true);
    expect(id).toMatch(/-[0-9a-f]{6}$/);
  });

  it('differs between calls', () => {
    const ids = new Set(Array.from({ length: 50 }, () => instanceId('worker')));
    expect(ids.size).toBe(50);
  });
});
