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
  if (high === null) return bad;
  // Vixie cron has no wrap-around ranges: 22-2 would be empty, not 22 to 2.
  if (high < low) {
    return `invalid range "${range}" in ${field.name}: it runs backwards and ranges do not wrap around (for ${from} through ${to} write ${wrapped(from, to, low, high, field)})`;
  }
  return null;
}

/** `from` through the field's end, then its start through `to`: what a backwards range meant. */
function wrapped(from: string, to: string, low: number, high: number, field: Field): string {
  // Day of week: 7 is Sunday too, so FRI-SUN is FRI-7.
  if (field.name === 'day of week')
    return high === 0 ? `${from}-7` : `${from}-7,${high === 1 ? to : `1-${to}`}`;
  const named = field.names !== undefined && !/^\d/.test(from);
  const text = (n: number) => {
    if (!named) return String(n);
    const name = field.names?.[field.name === 'month' ? n - 1 : n] ?? String(n);
    return from === from.toUpperCase() ? name.toUpperCase() : name;
  };
  const head = low === field.max ? from : `${from}-${text(field.max)}`;
  const tail = high === field.min ? to : `${text(field.min)}-${to}`;
  return `${head},${tail}`;
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

/** A parsed cron expression: the allowed values of each field (UTC). */
export interface CronSchedule {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0-6, Sunday = 0 (7 is folded into 0). */
  daysOfWeek: ReadonlySet<number>;
  /**
   * Whether the day-of-month / day-of-week field starts with a star (bare, or stepped). Vixie cron: when either
   * does, a day must match both fields; when neither does (both restricted), either field suffices.
   */
  anyDayOfMonth: boolean;
  anyDayOfWeek: boolean;
}

function expandItem(item: string, field: Field, into: Set<number>): void {
  const [range = '', stepText] = item.split('/');
  const step = stepText === undefined ? 1 : Number(stepText);
  let low = field.min;
  let high = field.max;
  if (range !== '*') {
    const [from = '', to] = range.split('-');
    low = parseValue(from, field) as number;
    // `5/15` means 5-max/15, as in Vixie cron; a lone value is itself.
    high = to !== undefined ? (parseValue(to, field) as number) : stepText !== undefined ? field.max : low;
  }
  for (let v = low; v <= high; v += step) into.add(v);
}

/**
 * Parses a cron expression that {@link checkCron} accepts.
 * @throws RangeError with checkCron's reason for an invalid expression.
 */
export function parseCron(expression: string): CronSchedule {
  const problem = checkCron(expression);
  if (problem) throw new RangeError(problem);
  const parts = expression.trim().split(/\s+/);
  const sets = parts.map((part, i) => {
    const set = new Set<number>();
    for (const item of part.split(',')) expandItem(item, FIELDS[i] as Field, set);
    return set;
  });
  const daysOfWeek = new Set([...(sets[4] as Set<number>)].map((d) => d % 7));
  return {
    minutes: sets[0] as Set<number>,
    hours: sets[1] as Set<number>,
    daysOfMonth: sets[2] as Set<number>,
    months: sets[3] as Set<number>,
    daysOfWeek,
    anyDayOfMonth: parts[2]?.startsWith('*') === true,
    anyDayOfWeek: parts[4]?.startsWith('*') === true,
  };
}

function dayMatches(s: CronSchedule, date: Date): boolean {
  const dom = s.daysOfMonth.has(date.getUTCDate());
  const dow = s.daysOfWeek.has(date.getUTCDay());
  // A star only joins the fields with AND; its values still count (every 5th day: 1, 6, 11, ...).
  return s.anyDayOfMonth || s.anyDayOfWeek ? dom && dow : dom || dow;
}

/**
 * Whether any day ever matches the schedule's day-of-month, month and day-of-week fields together
 * (`0 0 31 2 *`, `0 0 30 2 *` never do). Checks 2000-2027: 28 years hold every calendar a year can have
 * (each weekday for January 1st, leap or not), so a day that never matches there never does.
 */
export function cronEverFires(schedule: CronSchedule): boolean {
  for (let year = 2000; year < 2028; year += 1) {
    for (const month of schedule.months) {
      const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
      for (let day = 1; day <= days; day += 1) {
        if (dayMatches(schedule, new Date(Date.UTC(year, month - 1, day)))) return true;
      }
    }
  }
  return false;
}

const MINUTE_MS = 60_000;
/** How far ahead a tick is looked for: an expression with no tick in 5 years (`0 0 31 2 *`) has none. */
const HORIZON_MS = 5 * 366 * 24 * 60 * MINUTE_MS;

/**
 * The first tick of `schedule` strictly after `afterMs` (epoch ms, UTC), or null when there is none
 * within five years. Walks month, day, hour and minute in turn, so a search costs at most a few thousand
 * steps whatever the gap.
 */
export function nextCronTick(schedule: CronSchedule, afterMs: number): number | null {
  const date = new Date(Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
  const limit = afterMs + HORIZON_MS;
  while (date.getTime() <= limit) {
    if (!schedule.months.has(date.getUTCMonth() + 1)) {
      date.setUTCMonth(date.getUTCMonth() + 1, 1);
      date.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(schedule, date)) {
      date.setUTCDate(date.getUTCDate() + 1);
      date.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(date.getUTCHours())) {
      date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(date.getUTCMinutes())) {
      date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return date.getTime();
  }
  return null;
}
