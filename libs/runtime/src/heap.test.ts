import { describe, expect, it } from 'vitest';
import { SERVICE_MAX_OLD_SPACE_MB, serviceNodeOptions } from './heap.js';

describe('serviceNodeOptions', () => {
  it.each([
    [undefined, `--max-old-space-size=${SERVICE_MAX_OLD_SPACE_MB}`],
    ['', `--max-old-space-size=${SERVICE_MAX_OLD_SPACE_MB}`],
    ['--enable-source-maps', `--enable-source-maps --max-old-space-size=${SERVICE_MAX_OLD_SPACE_MB}`],
    ['--max-old-space-size=1024', '--max-old-space-size=1024'],
  ])('turns %j into %j', (existing, expected) => {
    expect(serviceNodeOptions(existing)).toBe(expected);
  });
});
