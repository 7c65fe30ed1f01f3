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
    [
      '5-1 * * * *',
      'invalid range "5-1" in minute: it runs backwards and ranges do not wrap around (for 5 through 1 write 5-59,0-1)',
    ],
    [
      '0 22-2 * * *',
      'invalid range "22-2" in hour: it runs backwards and ranges do not wrap around (for 22 through 2 write 22-23,0-2)',
    ],
    [
      '* * * dec-jan *',
      'invalid range "dec-jan" in month: it runs backwards and ranges do not wrap around (for dec through jan write dec,jan)',
    ],
    [
      '* * * NOV-FEB *',
      'invalid range "NOV-FEB" in month: it runs backwards and ranges do not wrap around (for NOV through FEB write NOV-DEC,JAN-FEB)',
    ],
    [
      '* * 30-2 * *',
      'invalid range "30-2" in day of month: it runs backwards and ranges do not wrap around (for 30 through 2 write 30-31,1-2)',
    ],
    [
      '0 0 * * FRI-SUN',
      'invalid range "FRI-SUN" in day of week: it runs backwards and ranges do not wrap around (for FRI through SUN write FRI-7)',
    ],
    [
      '0 0 * * 6-1',
      'invalid range "6-1" in day of week: it runs backwards and ranges do not wrap around (for 6 through 1 write 6-7,1)',
    ],
    ['1-2-3 * * * *', 'invalid minute "1-2-3" (allowed 0-59)'],
    ['1,,2 * * * *', 'invalid minute "" (allowed 0-59)'],
    ['@daily', 'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 1'],
    ['? * * * *', 'invalid minute "?" (allowed 0-59)'],
  ])('rejects %j', (expression, reason) => {
    expect(checkCron(expression)).toBe(reason);
  });
});

describe('the fix a backwards range suggests', () => {
  const fields = [
    { at: 0, min: 0, max: 59, key: 'minutes', names: undefined },
    { at: 1, min: 0, max: 23, key: 'hours', names: undefined },
    { at: 2, min: 1, max: 31, key: 'daysOfMonth', names: undefined },
    {
      at: 3,
      min: 1,
      max: 12,
      key: 'months',
      names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    },
    { at: 4, min: 0, max: 6, key: 'daysOfWeek', names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  ] as const;
  const expression = (at: number, part: string) =>
    ['0', '0', '*', '*', '*'].map((p, i) => (i === at ? part : p)).join(' ');

  it('is valid and covers exactly from through the end and the start through to, in every field', () => {
    let checked = 0;
    for (const field of fields) {
      const spell = (n: number, named: boolean) =>
        named && field.names ? (field.names[field.key === 'months' ? n - 1 : n] as string) : String(n);
      for (let low = field.min; low <= field.max; low += 1) {
        for (let high = field.min; high < low; high += 1) {
          for (const named of field.names ? [false, true] : [false]) {
            const range = `${spell(low, named)}-${spell(high, named)}`;
            const problem = checkCron(expression(field.at, range));
            const fix = /write (\S+)\)$/.exec(problem ?? '')?.[1];
            expect(fix, `${field.key} ${range}: ${problem}`).toBeDefined();
            const parsed = parseCron(expression(field.at, fix as string));
            const expected = new Set<number>();
            for (let n = low; n <= field.max; n += 1) expected.add(n);
            for (let n = field.min; n <= high; n += 1) expected.add(n);
            expect(
              [...parsed[field.key]].sort((a, b) => a - b),
              `${range} -> ${fix}`,
            ).toEqual([...expected].sort((a, b) => a - b));
            checked += 1;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
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
