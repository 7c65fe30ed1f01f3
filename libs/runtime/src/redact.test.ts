import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskUrlCredentials } from './redact.js';

describe('maskUrlCredentials', () => {
  it.each([
    ['postgres://relay:relay@db:5432/relay', 'postgres://***@db:5432/relay'],
    ['postgres://relay:s3cr#t@host/db', 'postgres://***@host/db'],
    ['redis://:p@ss@h:6379', 'redis://***@h:6379'],
    ['rediss://user@cache:6380/0', 'rediss://***@cache:6380/0'],
    ['postgres://u:a/b?c d@h/db', 'postgres://***@h/db'],
    ['postgres://u:p@h/db?email=a@b', 'postgres://***@b'],
    ['redis://localhost:6379', 'redis://localhost:6379'],
    ['postgres://@host/db', 'postgres://@host/db'],
    ['me@example.com', 'me@example.com'],
    ['a@b then http://host/x', 'a@b then http://host/x'],
    ['localhost:5432', 'localhost:5432'],
    ['', ''],
  ])('masks %j as %j', (value, expected) => {
    expect(maskUrlCredentials(value)).toBe(expected);
  });

  const scheme = fc.stringMatching(/^[a-z][a-z0-9+.-]{0,9}$/);
  const hostAndRest = fc.stringMatching(/^[a-z0-9.-]{1,20}(:\d{1,5})?(\/[A-Za-z0-9_./?=&%-]{0,20})?$/);

  it('hides any user and password, whatever characters they hold, and keeps the host', () => {
    fc.assert(
      fc.property(
        scheme,
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary', minLength: 1 }),
        hostAndRest,
        (protocol, user, password, rest) => {
          const masked = maskUrlCredentials(`${protocol}://${user}:${password}@${rest}`);
          expect(masked).toBe(`${protocol}://***@${rest}`);
          // The password can only show where the visible parts happen to spell it.
          if (!`${protocol}${rest}`.includes(password) && !'://***@'.includes(password)) {
            expect(masked).not.toContain(password);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('hides a secret in the user info whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const value = `x://u:${text}SECRET${text}@h`;
        expect(maskUrlCredentials(value)).not.toContain('SECRET');
      }),
    );
  });
});
