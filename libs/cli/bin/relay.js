#!/usr/bin/env node
// The `relay` command. It runs the compiled CLI; `npm run build` (or `npm run up`) builds it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('relay: not built yet; run `npm run build` at the repository root first\n');
  process.exit(1);
}
await import(main);
