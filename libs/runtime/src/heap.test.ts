import { describe, expect, it } from 'vitest';
import { CHURNING_SERVICE_SEMI_SPACE_MB, SERVICE_MAX_OLD_SPACE_MB, serviceNodeOptions } from './heap.js';

const OLD = `--max-old-space-size=${SERVICE_MAX_OLD_SPACE_MB}`;
const SEMI = `--max-semi-space-size=${CHURNING_SERVICE_SEMI_SPACE_MB}`;

describe('serviceNodeOptions', () => {
  it.each([
    [undefined, OLD],
    ['', OLD],
    ['--enable-source-maps', `--enable-source-maps ${OLD}`],
    ['--max-old-space-size=1024', '--max-old-space-size=1024'],
  ])('turns %j into %j', (existing, expected) => {
    expect(serviceNodeOptions(existing)).toBe(expected);
  });

  it.each([
    ['worker', undefined, `${OLD} ${SEMI}`],
    ['dispatcher', '--enable-source-maps', `--enable-source-maps ${OLD} ${SEMI}`],
    ['worker', '--max-semi-space-size=8', `--max-semi-space-size=8 ${OLD}`],
    [
      'worker',
      '--max-old-space-size=1024 --max-semi-space-size=64',
      '--max-old-space-size=1024 --max-semi-space-size=64',
    ],
    ['scheduler', undefined, OLD],
    ['ingest', undefined, OLD],
    ['reaper', undefined, OLD],
  ])('gives the %s %j as %j', (service, existing, expected) => {
    expect(serviceNodeOptions(existing, service)).toBe(expected);
  });
});
