import { describe, expect, it } from 'vitest';
import { checkCron, cronEverFires, nextCronTick, parseCron } from './cron.js';

describe('checkCron', () => {
  it.each([
    '* * * * *',
    '*/15 * * * *',
    '0 9 * * 1-5',
    '0,30 0-23/2 1,15 jan-jun MON',
    '59 23 31 12 7',
    '  5   4 * * sun ',
    '0 0 1 DEC *',
  ])('accepts %j', (expression) => {
    expect(checkCron(expression)).toBeNull();
  });

  it.each([
    ['', 'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 1'],
    [
      '* * * *',
      'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 4',
    ],
    [
      '0 * * * * *',
      'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 6',
    ],
    ['60 * * * *', 'invalid minute "60" (allowed 0-59)'],
    ['* 24 * * *', 'invalid hour "24" (allowed 0-23)'],
    ['* * 0 * *', 'invalid day of month "0" (allowed 1-31)'],
    ['* * * 13 *', 'invalid month "13" (allowed 1-12 or names)'],
    ['* * * * 8', 'invalid day of week "8" (allowed 0-7 or names)'],
    ['* * * foo *', 'invalid month "foo" (allowed 1-12 or names)'],
    ['*/0 * * * *', 'invalid step "/0" in minute'],
    ['*/x * * * *', 'invalid step "/x" in minute'],
    ['5-1 * * * *', 'invalid range "5-1" in minute: it runs backwards (write 1-5)'],
    ['* * * dec-jan *', 'invalid range "dec-jan" in month: it runs backwards (write jan-dec)'],
    ['1-2-3 * * * *', 'invalid minute "1-2-3" (allowed 0-59)'],
    ['1,,2 * * * *', 'invalid minute "" (allowed 0-59)'],
    ['@daily', 'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 1'],
    ['? * * * *', 'invalid minute "?" (allowed 0-59)'],
  ])('rejects %j', (expression, reason) => {
    expect(checkCron(expression)).toBe(reason);
  });
});

describe('cronEverFires', () => {
  it.each([
    ['0 0 31 2 *', false],
    ['0 0 30 2 *', false],
    ['0 0 31 4,6,9,11 *', false],
    ['0 0 29 2 *', true], // leap years
    ['0 0 31 2 mon', true], // both restricted: either field, so every Monday of February
    ['0 0 29 2 */7', true], // a February 29th that is a Sunday (2004, 2032, ...)
    ['0 0 31 * *', true],
    ['* * * * *', true],
  ])('%j: %s', (expression, fires) => {
    expect(cronEverFires(parseCron(expression))).toBe(fires);
  });
});

describe('parseCron and nextCronTick (UTC)', () => {
  const at = (iso: string) => Date.parse(iso);
  const next = (expression: string, after: string) => {
    const tick = nextCronTick(parseCron(expression), at(after));
    return tick === null ? null : new Date(tick).toISOString();
  };

  it.each([
    ['* * * * *', '2026-11-28T10:07:30.000Z', '2026-11-28T10:08:00.000Z'],
    ['* * * * *', '2026-11-28T10:07:00.000Z', '2026-11-28T10:08:00.000Z'],
    ['*/15 * * * *', '2026-11-28T10:07:00.000Z', '2026-11-28T10:15:00.000Z'],
    ['*/15 * * * *', '2026-11-28T10:45:00.000Z', '2026-11-28T11:00:00.000Z'],
    ['5/20 * * * *', '2026-11-28T10:26:00.000Z', '2026-11-28T10:45:00.000Z'],
    ['0 9 * * 1-5', '2026-11-28T10:00:00.000Z', '2026-11-30T09:00:00.000Z'],
    ['0 0 1 * *', '2026-12-15T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ['30 23 31 dec *', '2026-01-01T00:00:00.000Z', '2026-12-31T23:30:00.000Z'],
    ['0 12 * * sun', '2026-11-28T13:00:00.000Z', '2026-11-29T12:00:00.000Z'],
    ['0 12 * * 7', '2026-11-28T13:00:00.000Z', '2026-11-29T12:00:00.000Z'],
    // Both day fields restricted: either matches (the 1st, or any Monday).
    ['0 0 1 * mon', '2026-11-28T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    ['0 0 29 2 *', '2026-03-01T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['0,30 8-9 * * *', '2026-11-28T08:30:00.000Z', '2026-11-28T09:00:00.000Z'],
    // A stepped star still restricts its day field (Vixie cron): */5 = days 1, 6, 11, ...; Sun and Fri.
    ['0 0 */5 * *', '2026-12-03T00:00:00.000Z', '2026-12-06T00:00:00.000Z'],
    ['0 0 */10 * *', '2026-01-01T00:00:00.000Z', '2026-01-11T00:00:00.000Z'],
    ['0 0 * * */5', '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'],
    ['0 0 * * */5', '2026-12-04T00:00:00.000Z', '2026-12-06T00:00:00.000Z'],
    // A field starting with a star makes the two day fields AND: Mondays on odd dates.
    ['0 0 */2 * 1', '2026-11-28T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
  ])('%j after %s is %s', (expression, after, expected) => {
    expect(next(expression, after)).toBe(expected);
  });

  it('returns null for an expression that never fires', () => {
    expect(next('0 0 31 2 *', '2026-01-01T00:00:00.000Z')).toBeNull();
  });

  it('throws checkCron’s reason for an invalid expression', () => {
    expect(() => parseCron('60 * * * *')).toThrow('invalid minute "60" (allowed 0-59)');
  });

  it('visits every tick of a busy expression in order', () => {
    const schedule = parseCron('*/7 */5 * * *');
    let t = at('2026-11-28T00:00:00.000Z') - 1;
    const ticks: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      t = nextCronTick(schedule, t) as number;
      ticks.push(new Date(t).toISOString().slice(11, 16));
    }
    expect(ticks).toEqual([
      '00:00',
      '00:07',
      '00:14',
      '00:21',
      '00:28',
      '00:35',
      '00:42',
      '00:49',
      '00:56',
      '05:00',
      '05:07',
      '05:14',
    ]);
  });
});
