import { describe, expect, it } from 'vitest';
import { ackedWatermark, isEventGone, type StreamState } from './watermark.js';

const INF = Number.POSITIVE_INFINITY;
const group = (lastDeliveredId: string, pending = 0, smallestPendingId: string | null = null) => ({
  lastDeliveredId,
  pending,
  smallestPendingId,
});

describe('ackedWatermark', () => {
  it.each<[string, StreamState, number]>([
    ['no stream', { exists: false, firstEntryId: null, lastGeneratedId: null, group: null }, INF],
    [
      'no group, empty stream',
      { exists: true, firstEntryId: null, lastGeneratedId: '5-0', group: null },
      INF,
    ],
    [
      'no group, entries kept',
      { exists: true, firstEntryId: '100-0', lastGeneratedId: '300-0', group: null },
      100,
    ],
    [
      'all delivered and acked',
      { exists: true, firstEntryId: '100-0', lastGeneratedId: '300-0', group: group('300-0') },
      INF,
    ],
    [
      'undelivered backlog',
      { exists: true, firstEntryId: '100-0', lastGeneratedId: '300-0', group: group('200-0') },
      200,
    ],
    [
      'trimmed undelivered',
      { exists: true, firstEntryId: '250-0', lastGeneratedId: '300-0', group: group('200-0') },
      250,
    ],
    [
      'pending older than backlog',
      { exists: true, firstEntryId: '100-0', lastGeneratedId: '300-0', group: group('200-0', 2, '150-1') },
      150,
    ],
    [
      'pending only',
      { exists: true, firstEntryId: '100-0', lastGeneratedId: '300-0', group: group('300-0', 1, '120-0') },
      120,
    ],
  ])('%s', (_name, state, expected) => {
    expect(ackedWatermark(state)).toBe(expected);
  });
});

describe('isEventGone', () => {
  it.each([
    [1000, INF, 0, 1000, true],
    [1000, 2001, 0, 1000, true],
    [1000, 2000, 0, 1000, false],
    [1000, 2600, 500, 1000, true],
    [1000, 2400, 500, 1000, false],
  ])('expected %d, watermark %d, offset %d, slack %d -> %s', (expected, w, offset, slack, gone) => {
    expect(isEventGone(expected, w, offset, slack)).toBe(gone);
  });
});
