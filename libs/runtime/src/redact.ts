const MASK = '***';

/**
 * Replaces the user info of a URL (`user:password`) with `***` (`postgres://***@db/relay`), so that a
 * connection string can be logged or shown in an error. Works on any string, URL or not: everything
 * from the first `://` up to the last `@` after it is masked, so a password holding `@`, `#`, `/`,
 * `?` or spaces (a string that no longer parses as a URL) is hidden whole. An `@` later in the
 * string (`?email=a@b`) widens the mask, which errs on the safe side. Strings without `://` or
 * without an `@` after it come back unchanged.
 */
export function maskUrlCredentials(value: string): string {
  const scheme = value.indexOf('://');
  if (scheme === -1) return value;
  const start = scheme + 3;
  const at = value.lastIndexOf('@');
  if (at <= start) return value;
  return `${value.slice(0, start)}${MASK}${value.slice(at)}`;
}

const SECRET_NAME = /token|secret|password|passwd|authorization|cookie|api[_-]?key/i;

/** Whether a variable or field name suggests its value is a secret that must never be printed. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
