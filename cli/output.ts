import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface Column<Row> {
  header: string;
  value(row: Row): unknown;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function renderTable<Row>(rows: Row[], columns: Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(column.value(row))));
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((row) => row[index]?.length ?? 0)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return [line(columns.map((column) => column.header.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Prints data as JSON or YAML, or as a table (or via a custom table renderer for one object). */
export function printData<Row>(format: OutputFormat, data: Row[] | Row, table: Column<Row>[] | ((data: Row) => string)): void {
  if (format === 'json') return void console.log(JSON.stringify(data, null, 2));
  if (format === 'yaml') return void process.stdout.write(stringify(data));
  if (typeof table === 'function') return void console.log(table(data as Row));
  const rows = Array.isArray(data) ? data : [data];
  console.log(rows.length === 0 ? '(none)' : renderTable(rows, table));
}
