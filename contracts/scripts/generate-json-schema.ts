// Writes contracts/json-schema/*.json from the valibot schemas (toJsonSchemas) and refreshes the
// generated tables of contracts/README.md. Run after changing an event, a route or a column owner:
//   npx tsx --conditions=relay-source contracts/scripts/generate-json-schema.ts
// contracts/test/generated.test.ts fails while the committed files differ from what this writes.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatJsonSchema, renderReadme, toJsonSchemas } from '@relay/contracts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'json-schema');

const files = toJsonSchemas();
mkdirSync(outDir, { recursive: true });
for (const name of readdirSync(outDir)) {
  // A schema of an event that no longer exists must not linger.
  if (name.endsWith('.json') && !(name in files)) rmSync(join(outDir, name));
}
for (const [name, schema] of Object.entries(files)) {
  writeFileSync(join(outDir, name), formatJsonSchema(schema));
}

const readmePath = join(root, 'README.md');
writeFileSync(readmePath, renderReadme(readFileSync(readmePath, 'utf8')));

process.stdout.write(`wrote ${Object.keys(files).length} schemas to ${outDir} and refreshed ${readmePath}\n`);
