// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are the subject under test
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveShellCommand, TemplateSyntaxError } from '@relay/template';
import { describe, expect, it } from 'vitest';

/**
 * What /bin/sh itself does with a resolved command: `null` when the template is refused (a
 * reference where it cannot be one word), else the command's stdout, run in an empty directory;
 * `pwned` tells whether anything in the value ran (it would create PWNED there).
 */
function run(command: string, value: string): { out: string; pwned: boolean } | null {
  let resolved: ReturnType<typeof resolveShellCommand>;
  try {
    resolved = resolveShellCommand(command, { input: { v: value }, tasks: {} }, 'with.command');
  } catch (err) {
    if (err instanceof TemplateSyntaxError) return null;
    throw err;
  }
  const dir = mkdtempSync(join(tmpdir(), 'relay-shell-'));
  try {
    // A command the shell rejects (an arithmetic error, say) still counts: did it run the value?
    const { stdout } = spawnSync('/bin/sh', ['-c', resolved.command], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...resolved.env },
      encoding: 'utf8',
    });
    return { out: stdout, pwned: existsSync(join(dir, 'PWNED')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const HOSTILE = [
  'a[$(touch PWNED)]',
  '$(touch PWNED)',
  '`touch PWNED`',
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  '$(touch PWNED) * ~ $HOME \\ \n newline',
];

describe('a shell task reference under /bin/sh', () => {
  // Positions where values quoted into the text were once run as code: `${#X}` read as a comment
  // start (the scanner then lost track of quotes), quotes inside `${x-...}`, arithmetic.
  it.each([
    'printf "%s|" ${{ input.v }}',
    'count=${#HOME}; body="{"\nprintf "%s|" "${{ input.v }}"',
    'printf "%s|" "${x-\'}" ${{ input.v }}',
    'x=${x-\'}\'"}"; printf "%s|" ${{ input.v }}',
    'printf "%s|" $((1)+ ${{ input.v }} ))',
    "printf '%s|' 'a ${{ input.v }} b'",
    'printf "%s|" "a ${{ input.v }} b" ${{ input.v }}x',
  ])('%j: a hostile value is data, never a command', (command) => {
    for (const value of HOSTILE) {
      const result = run(command, value);
      if (result !== null) expect(result.pwned, `${command} with ${value}`).toBe(false);
    }
  });

  it('passes the value through exactly, as one word, in every quoting context', () => {
    for (const value of HOSTILE) {
      expect(run('printf "%s|" ${{ input.v }}', value)?.out).toBe(`${value}|`);
      expect(run('printf "%s|" "<${{ input.v }}>"', value)?.out).toBe(`<${value}>|`);
      expect(run("printf '%s|' '<${{ input.v }}>'", value)?.out).toBe(`<${value}>|`);
      expect(run('printf "%s|" a${{ input.v }}b', value)?.out).toBe(`a${value}b|`);
    }
  });
});
