// Reads incidents from what teams already have: Markdown postmortems (the
// usual template's headings: Summary, Impact, Detection/Symptoms, Root cause,
// Resolution/Mitigation, Timeline, Action items, with "Key: value" lines for
// date, environment, services, nodes and runbook), JSON exports (an array, or
// {incidents: [...]}) and CSV exports with a header row. Each record is
// checked by the incident schema; a bad record is reported with its place and
// does not stop the others.
import { normalise } from './incident-fields.js';
import { incidentSchema, type Incident } from './incidents.js';
import { markdownRecords } from './postmortem-markdown.js';

export type ImportFormat = 'markdown' | 'json' | 'csv';

export interface ImportResult {
  incidents: Incident[];
  errors: Array<{ record: number; title?: string; message: string }>;
}

export function formatOfFile(fileName: string): ImportFormat | undefined {
  const extension = fileName.toLowerCase().split('.').pop();
  if (extension === 'md' || extension === 'markdown') return 'markdown';
  if (extension === 'json') return 'json';
  if (extension === 'csv') return 'csv';
  return undefined;
}

export function parseIncidents(format: ImportFormat, content: string, environment: string): ImportResult {
  const records = format === 'markdown' ? markdownRecords(content) : format === 'json' ? jsonRecords(content) : csvRecords(content);
  const result: ImportResult = { incidents: [], errors: [] };
  records.forEach((record, index) => {
    if (record instanceof Refusal) {
      result.errors.push({ record: index + 1, message: record.message });
      return;
    }
    const named = typeof record.environment === 'string' && record.environment.trim() ? record.environment.trim() : environment;
    if (named !== environment) {
      result.errors.push({ record: index + 1, ...(typeof record.title === 'string' ? { title: record.title } : {}), message: `it names environment ${named}, not ${environment}: import it there` });
      return;
    }
    const parsed = incidentSchema.safeParse({ ...record, environment });
    if (parsed.success) result.incidents.push(parsed.data);
    else
      result.errors.push({
        record: index + 1,
        ...(typeof record.title === 'string' ? { title: record.title } : {}),
        message: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; '),
      });
  });
  return result;
}

/** A record that could not even be read (not JSON, not an object). */
class Refusal {
  constructor(readonly message: string) {}
}

type RawRecord = Record<string, unknown> | Refusal;

function jsonRecords(content: string): RawRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    return [new Refusal(`not JSON: ${(error as Error).message}`)];
  }
  const list = Array.isArray(parsed)
    ? parsed
    : parsed && typeof parsed === 'object' && Array.isArray((parsed as { incidents?: unknown }).incidents)
      ? (parsed as { incidents: unknown[] }).incidents
      : [parsed];
  return list.map((item) => (item && typeof item === 'object' && !Array.isArray(item) ? normalise(item as Record<string, unknown>) : new Refusal('an incident is an object')));
}

/** RFC 4180: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(content: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const text = content.replace(/^\uFEFF/, '');
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index += 1;
      row.push(field);
      field = '';
      if (row.some((cell) => cell !== '')) rows.push(row);
      row = [];
    } else field += char;
  }
  row.push(field);
  if (row.some((cell) => cell !== '')) rows.push(row);
  return rows;
}

function csvRecords(content: string): RawRecord[] {
  const [header, ...rows] = parseCsv(content);
  if (!header) return [];
  return rows.map((cells) => normalise(Object.fromEntries(header.map((key, index) => [key, cells[index] ?? '']))));
}
