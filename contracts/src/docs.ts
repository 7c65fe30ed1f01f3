import { EVENT_TYPES } from './events.js';
import { COLUMN_WRITERS } from './ownership.js';
import { EVENT_ROUTES } from './streams.js';

/** Markers around the generated tables of contracts/README.md. */
export const README_SECTIONS = {
  events: ['<!-- generated:events -->', '<!-- /generated:events -->'],
  columns: ['<!-- generated:columns -->', '<!-- /generated:columns -->'],
} as const;

/** The markdown table event -> producer(s) -> consumer(s) -> stream, from EVENT_ROUTES. */
export function renderEventTable(): string {
  const rows = EVENT_TYPES.map((type) => {
    const route = EVENT_ROUTES[type];
    const stream = route.stream === 'work' ? '`P:work:<queue>`' : `\`P:${route.stream}\``;
    const consumers = route.consumers.map(describeConsumer).join(', ');
    return [`\`${type}\``, route.producers.join(', '), consumers, stream];
  });
  return formatTable(['event', 'producer(s)', 'consumer(s)', 'stream'], rows);
}

/** The markdown table table.column -> writer(s) -> what each writes, from COLUMN_WRITERS. */
export function renderColumnTable(): string {
  const rows = Object.entries(COLUMN_WRITERS).map(([column, writes]) => {
    const services = writes.map((write) => write.service).join(', ');
    const when =
      writes.length === 1
        ? escapeCell(writes[0]?.when ?? '')
        : writes.map((write) => `**${write.service}**: ${escapeCell(write.when)}`).join('<br>');
    return [`\`${column}\``, services, when];
  });
  return formatTable(['column', 'writer', 'what it writes'], rows);
}

/** Replaces the generated sections of a README text with freshly rendered tables. */
export function renderReadme(readme: string): string {
  let text = replaceSection(readme, README_SECTIONS.events, renderEventTable());
  text = replaceSection(text, README_SECTIONS.columns, renderColumnTable());
  return text;
}

function replaceSection(text: string, [start, end]: readonly [string, string], body: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README lacks the markers ${start} ... ${end}`);
  return `${text.slice(0, from + start.length)}\n${body}\n${text.slice(to)}`;
}

// Columns padded to their widest cell, as the repository's formatter (Biome) lays out tables, so
// that formatting the README leaves the generated sections unchanged.
function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${widths.map((width, i) => (cells[i] ?? '').padEnd(width)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function describeConsumer(consumer: string): string {
  if (consumer === 'broadcast') return 'every worker (broadcast, no group)';
  if (consumer === 'observers') return 'none in Relay (observers)';
  return `group \`${consumer}\``;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}
