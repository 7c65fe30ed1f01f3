// The generated files (json-schema/*.json, the tables of README.md) must equal what
// scripts/generate-json-schema.ts writes today, and COLUMN_WRITERS must cover the schema exactly.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COLUMN_WRITERS, EVENT_TYPES, formatJsonSchema, renderReadme, toJsonSchemas } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'json-schema');
const migrationsDir = join(root, '..', 'infra', 'migrations');
const regenerate = 'run `npx tsx --conditions=relay-source contracts/scripts/generate-json-schema.ts`';

describe('committed JSON Schemas', () => {
  const generated = toJsonSchemas();

  it('are one per event type plus envelope.json, and nothing else', () => {
    expect(Object.keys(generated).sort()).toEqual(
      ['envelope.json', ...EVENT_TYPES.map((t) => `${t}.json`)].sort(),
    );
    const committed = readdirSync(schemaDir).filter((name) => name.endsWith('.json'));
    expect(committed.sort(), regenerate).toEqual(Object.keys(generated).sort());
  });

  it.each(Object.keys(toJsonSchemas()))('%s equals what the generator writes', (name) => {
    const schema = generated[name];
    if (!schema) throw new Error(`no schema ${name}`);
    expect(readFileSync(join(schemaDir, name), 'utf8'), regenerate).toBe(formatJsonSchema(schema));
  });

  it('forbid unknown fields and require every envelope field', () => {
    for (const type of EVENT_TYPES) {
      const schema = generated[`${type}.json`] as {
        additionalProperties: boolean;
        required: string[];
        properties: { type: { const: string }; data: { additionalProperties: boolean } };
      };
      expect(schema.additionalProperties).toBe(false);
      expect(schema.properties.data.additionalProperties).toBe(false);
      expect(schema.required).toEqual(['id', 'type', 'version', 'occurredAt', 'source', 'data']);
      expect(schema.properties.type.const).toBe(type);
    }
    expect((generated['envelope.json'] as { oneOf: unknown[] }).oneOf).toHaveLength(EVENT_TYPES.length);
  });
});

describe('contracts/README.md', () => {
  it('holds the generated event and column tables', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme, regenerate).toBe(renderReadme(readme));
  });
});

/** Every `table.column` created by the migrations (CREATE TABLE bodies and ADD COLUMN). */
function migrationColumns(): string[] {
  const columns: string[] = [];
  for (const file of readdirSync(migrationsDir)
    .filter((name) => name.endsWith('.sql'))
    .sort()) {
    const sql = readFileSync(join(migrationsDir, file), 'utf8').replace(/--[^\n]*/g, '');
    for (const match of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+) \(([\s\S]*?)\n\);/g)) {
      const [, table, body] = match;
      for (const line of (body ?? '').split('\n')) {
        const column = /^\s+(\w+)\s+(TEXT|INTEGER|SERIAL|JSONB|BOOLEAN|TIMESTAMPTZ)\b/.exec(line)?.[1];
        if (column) columns.push(`${table}.${column}`);
      }
    }
    for (const match of sql.matchAll(/ALTER TABLE (\w+) ADD COLUMN (?:IF NOT EXISTS )?(\w+)/g)) {
      columns.push(`${match[1]}.${match[2]}`);
    }
  }
  return columns;
}

describe('COLUMN_WRITERS', () => {
  it('names a writer for every column of infra/migrations, and no other column', () => {
    const columns = migrationColumns();
    expect(columns).toContain('task_runs.status');
    expect(columns).toContain('task_runs.decided_by');
    expect(columns.length).toBeGreaterThan(50);
    expect(Object.keys(COLUMN_WRITERS).sort()).toEqual([...new Set(columns)].sort());
  });

  it('gives a column two writers only where the lifecycle needs it', () => {
    const shared = Object.entries(COLUMN_WRITERS)
      .filter(([, writes]) => writes.length > 1)
      .map(([column]) => column)
      .sort();
    // task_attempts: the history row is written by the statement that ends the attempt (worker or reaper).
    // runs: inserted by ingest (API, events) and by the scheduler (on.schedule ticks).
    expect(shared).toEqual([
      'runs.id',
      'runs.input',
      'runs.started_at',
      'runs.status',
      'runs.workflow_id',
      'runs.workflow_version',
      'task_attempts.attempt',
      'task_attempts.error',
      'task_attempts.finished_at',
      'task_attempts.started_at',
      'task_attempts.status',
      'task_attempts.task_run_id',
      'task_attempts.worker_id',
      'task_runs.error',
      'task_runs.finished_at',
      'task_runs.ready_at',
      'task_runs.retryable',
      'task_runs.status',
    ]);
  });

  it('gives task_runs.attempt to the dispatcher alone (it fences every attempt)', () => {
    expect(COLUMN_WRITERS['task_runs.attempt']?.map((write) => write.service)).toEqual(['dispatcher']);
  });
});
