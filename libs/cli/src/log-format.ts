const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const OMIT = new Set(['level', 'time', 'msg', 'service', 'instance', 'pid', 'hostname']);

/**
 * Turns one pino JSON line into `12:00:01.123 INFO  message key=value ...`; any other line is
 * returned as it is. Errors keep their message and the first line of their stack.
 */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' || typeof entry.time === 'number' ? new Date(entry.time) : null;
  const clock = time && !Number.isNaN(time.getTime()) ? time.toISOString().slice(11, 23) : '';
  const level =
    typeof entry.level === 'number'
      ? (LEVELS[entry.level] ?? String(entry.level))
      : String(entry.level ?? '').toUpperCase();
  const fields = Object.entries(entry)
    .filter(([key]) => !OMIT.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return [clock, level.padEnd(5), String(entry.msg ?? ''), ...fields].filter(Boolean).join(' ');
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && 'message' in value) {
    const err = value as { type?: string; message?: string };
    return JSON.stringify(`${err.type ?? 'Error'}: ${err.message ?? ''}`);
  }
  return JSON.stringify(value);
}
