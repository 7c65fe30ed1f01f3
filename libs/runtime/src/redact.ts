const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]*@/i;

/**
 * Replaces the password of a URL's user info with `***` (`postgres://relay:***@db/relay`), so that a
 * connection string can be logged or shown in an error. Strings without credentials come back unchanged.
 */
export function maskUrlCredentials(value: string): string {
  return value.replace(URL_CREDENTIALS, '$1***@');
}

const SECRET_NAME = /token|secret|password|passwd|authorization|cookie|api[_-]?key/i;

/** Whether a variable or field name suggests its value is a secret that must never be printed. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
