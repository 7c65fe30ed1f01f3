import { describe, expect, it } from 'vitest';
import { checkCron } from './cron.js';

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
    ['5-1 * * * *', 'invalid minute "5-1" (allowed 0-59)'],
    ['1-2-3 * * * *', 'invalid minute "1-2-3" (allowed 0-59)'],
    ['1,,2 * * * *', 'invalid minute "" (allowed 0-59)'],
    ['@daily', 'must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got 1'],
    ['? * * * *', 'invalid minute "?" (allowed 0-59)'],
  ])('rejects %j', (expression, reason) => {
    expect(checkCron(expression)).toBe(reason);
  });
});
