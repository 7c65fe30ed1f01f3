interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
];

function parseValue(text: string, field: Field): number | null {
  if (/^\d{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max ? n : null;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index === -1) return null;
  return field.name === 'month' ? index + 1 : index;
}

function checkItem(item: string, field: Field): string | null {
  const bad = `invalid ${field.name} "${item}" (allowed ${field.min}-${field.max}${field.names ? ' or names' : ''})`;
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined) return bad;
  if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) > 0)) {
    return `invalid step "/${step}" in ${field.name}`;
  }
  if (range === '*') return null;
  const [from = '', to, more] = range.split('-');
  if (more !== undefined) return bad;
  const low = parseValue(from, field);
  if (low === null) return bad;
  if (to === undefined) return null;
  const high = parseValue(to, field);
  if (high === null || high < low) return bad;
  return null;
}

/**
 * Checks a standard 5-field cron expression (minute hour day-of-month month day-of-week) with
 * `*`, numbers, `a-b` ranges, `/n` steps, comma lists and month/day names; returns why it is
 * invalid, or null. Syntax only: no `@daily`, `L`, `W`, `#` or seconds field.
 */
export function checkCron(expression: string): string | null {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    return `must be a cron expression with 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  for (const [i, part] of parts.entries()) {
    const field = FIELDS[i] as Field;
    for (const item of part.split(',')) {
      const problem = checkItem(item, field);
      if (problem) return problem;
    }
  }
  return null;
}
