// Reads incidents from what teams already have: Markdown postmortems (the
// usual template's headings: Summary, Impact, Detection/Symptoms, Root cause,
// Resolution/Mitigation, Timeline, Action items, with "Key: value" lines for
// date, environment, services, nodes and runbook), JSON exports (an array, or
// {incidents: [...]}) and CSV exports with a header row. Each record is
// checked by the incident schema; a bad record is reported with its place and
// does not stop the others.
import { incidentSchema, type Incident } from './incidents.js';

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

const KEY_ALIASES: Record<string, string> = {
  title: 'title',
  name: 'title',
  summary_title: 'title',
  incident: 'title',
  date: 'occurredAt',
  time: 'occurredAt',
  occurred: 'occurredAt',
  occurredat: 'occurredAt',
  occurred_at: 'occurredAt',
  started: 'occurredAt',
  started_at: 'occurredAt',
  start: 'occurredAt',
  created: 'occurredAt',
  created_at: 'occurredAt',
  environment: 'environment',
  env: 'environment',
  services: 'services',
  service: 'services',
  components: 'services',
  component: 'services',
  affected_services: 'services',
  nodes: 'nodes',
  node: 'nodes',
  hosts: 'nodes',
  host: 'nodes',
  symptoms: 'symptoms',
  symptom: 'symptoms',
  summary: 'symptoms',
  impact: 'symptoms',
  description: 'symptoms',
  detection: 'symptoms',
  errors: 'symptoms',
  error: 'symptoms',
  what_happened: 'symptoms',
  trigger: 'symptoms',
  cause: 'cause',
  root_cause: 'cause',
  rootcause: 'cause',
  root_causes: 'cause',
  causes: 'cause',
  contributing_factors: 'cause',
  resolution: 'resolution',
  resolved_by: 'resolution',
  fix: 'resolution',
  remediation: 'resolution',
  mitigation: 'resolution',
  recovery: 'resolution',
  runbook: 'runbook',
  resolution_runbook: 'runbook',
  resolutionrunbook: 'runbook',
  runbook_inputs: 'runbookInputs',
  runbookinputs: 'runbookInputs',
  inputs: 'runbookInputs',
  steps: 'resolutionSteps',
  resolution_steps: 'resolutionSteps',
  resolutionsteps: 'resolutionSteps',
  links: 'links',
  link: 'links',
  url: 'links',
  urls: 'links',
  references: 'links',
  ticket: 'links',
  timeline: 'notes',
  action_items: 'notes',
  notes: 'notes',
  lessons_learned: 'notes',
  follow_up: 'notes',
  followups: 'notes',
};

function canonicalKey(key: string): string | undefined {
  return KEY_ALIASES[
    key
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_')
      .replace(/[^a-z_]/g, '')
  ];
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value))
    return value
      .map(String)
      .map((item) => item.trim())
      .filter(Boolean);
  if (typeof value !== 'string') return [];
  return value
    .split(/[;,|\n]/)
    .map((item) => item.replace(/^[-*]\s*/, '').trim())
    .filter(Boolean);
}

/** "name k=v k2=v2", "jarvis run start name -i k=v", or {name, inputs}. */
export function parseRunbookReference(value: unknown, inputs?: unknown): { name: string; inputs: Record<string, unknown> } | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    return typeof record.name === 'string' ? { name: record.name, inputs: (record.inputs as Record<string, unknown>) ?? {} } : undefined;
  }
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const words = value.replace(/`/g, '').trim().split(/\s+/);
  const start = words[0] === 'jarvis' && words[1] === 'run' && words[2] === 'start' ? 3 : 0;
  const name = words[start];
  if (!name || !/^[a-z0-9][a-z0-9_.-]*$/i.test(name)) return undefined;
  const parsedInputs: Record<string, unknown> = {};
  for (const word of words.slice(start + 1)) {
    const pair = /^([A-Za-z_][\w.-]*)=(.*)$/.exec(word);
    if (pair) parsedInputs[pair[1]!] = pair[2]!;
  }
  if (typeof inputs === 'string' && inputs.trim()) {
    try {
      Object.assign(parsedInputs, JSON.parse(inputs));
    } catch {
      for (const pair of inputs.split(/[;\s]+/)) {
        const [key, ...rest] = pair.split('=');
        if (key && rest.length > 0) parsedInputs[key] = rest.join('=');
      }
    }
  } else if (inputs && typeof inputs === 'object') Object.assign(parsedInputs, inputs);
  return { name, inputs: parsedInputs };
}

/** Maps a flat record (a JSON object, a CSV row, a postmortem's sections) to the incident's fields. */
function normalise(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const appendText = (key: string, value: unknown) => {
    const text = typeof value === 'string' ? value : Array.isArray(value) ? value.join('\n') : value === undefined || value === null ? '' : JSON.stringify(value);
    if (!text.trim()) return;
    out[key] = out[key] ? `${String(out[key])}\n${text}` : text;
  };
  let runbook: unknown;
  let runbookInputs: unknown;
  for (const [key, value] of Object.entries(raw)) {
    // A JSON resolution may be an object: {text, runbook, inputs, steps}.
    if (canonicalKey(key) === 'resolution' && value && typeof value === 'object' && !Array.isArray(value)) {
      const resolution = value as Record<string, unknown>;
      appendText('resolution', resolution.text ?? resolution.description ?? '');
      runbook ??= resolution.runbook;
      runbookInputs ??= resolution.inputs;
      if (Array.isArray(resolution.steps)) out.resolutionSteps = resolution.steps;
      continue;
    }
    const canonical = canonicalKey(key);
    if (!canonical) continue;
    if (canonical === 'title' || canonical === 'occurredAt') out[canonical] ??= typeof value === 'string' ? value.trim() : value;
    else if (canonical === 'environment') out.environment ??= value;
    else if (canonical === 'services' || canonical === 'nodes' || canonical === 'links') out[canonical] = [...((out[canonical] as string[]) ?? []), ...listOf(value)];
    else if (canonical === 'runbook') runbook ??= value;
    else if (canonical === 'runbookInputs') runbookInputs ??= value;
    else if (canonical === 'resolutionSteps') out.resolutionSteps = typeof value === 'string' && value.trim() ? safeJson(value) : value;
    else appendText(canonical, value);
  }
  const reference = parseRunbookReference(runbook, runbookInputs) ?? runbookInText(String(out.resolution ?? ''));
  if (reference) out.resolutionRunbook = reference;
  if (out.occurredAt === '') delete out.occurredAt;
  return out;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A runbook named in a resolution's text: "Runbook: NAME k=v", "ran the NAME runbook", "jarvis run start NAME -i k=v". */
export function runbookInText(text: string): { name: string; inputs: Record<string, unknown> } | undefined {
  const command = /jarvis run start ([a-z0-9][a-z0-9_.-]*)((?:\s+(?:-i|--input)\s+[A-Za-z_][\w.-]*=\S+)*)/i.exec(text);
  if (command) return parseRunbookReference(`${command[1]}${command[2]!.replace(/\s(?:-i|--input)\s/g, ' ')}`);
  const labelled = /^\W*runbook\W*:\s*`?([a-z0-9][a-z0-9_.-]*)`?((?:[ \t]+[A-Za-z_][\w.-]*=\S+)*)/im.exec(text);
  if (labelled) return parseRunbookReference(`${labelled[1]}${labelled[2]}`);
  const named = /\b(?:ran|run|running|started|with) (?:the )?`?([a-z0-9][a-z0-9_.-]*-[a-z0-9_.-]+)`? runbook\b/i.exec(text);
  return named ? { name: named[1]!, inputs: {} } : undefined;
}

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

const SECTION_FIELDS: Array<[RegExp, string]> = [
  [/^(root )?causes?|contributing factors|why/i, 'cause'],
  [/^(resolution|remediation|mitigation|recovery|fix|how (it|we) (was )?(fixed|resolved))/i, 'resolution'],
  [/^(summary|impact|symptoms?|detection|what happened|trigger|errors?|description|overview)/i, 'symptoms'],
  [/^(timeline|action items|lessons|follow[- ]?ups?|what went|where we got lucky|supporting information)/i, 'notes'],
  [/^(links|references|tickets)/i, 'links'],
];

/** One postmortem per level-1 heading (or one for the whole file); "Key: value" lines before the first section set fields. */
function markdownRecords(content: string): RawRecord[] {
  const documents: string[][] = [];
  for (const line of content.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^# /.test(line) || documents.length === 0) documents.push([]);
    documents.at(-1)!.push(line);
  }
  return documents.filter((lines) => lines.some((line) => line.trim())).map(markdownRecord);
}

function markdownRecord(lines: string[]): RawRecord {
  const record: Record<string, unknown> = {};
  const add = (key: string, text: string) => {
    if (!text.trim()) return;
    record[key] = record[key] ? `${String(record[key])}\n${text}` : text;
  };
  let section = 'symptoms';
  let inFence = false;
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (/^```/.test(line.trim())) {
      inFence = !inFence;
      continue;
    }
    const heading = inFence ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const title = heading[2]!.replace(/^(post-?mortem|incident( report)?|rca)\s*[:—-]\s*/i, '').trim();
      if (heading[1] === '#') record.title ??= title;
      else section = SECTION_FIELDS.find(([pattern]) => pattern.test(title))?.[1] ?? 'notes';
      continue;
    }
    // "**Date:** 2026-01-02", "- Services: api, web", "| Environment | prod |"
    const keyValue = inFence ? null : /^\s*(?:[-*]\s*)?(?:\|\s*)?\**([A-Za-z][A-Za-z _-]{1,30}?)\**\s*(?::|\|)\**\s*(.+?)\s*\|?\s*$/.exec(line);
    const key = keyValue ? canonicalKey(keyValue[1]!) : undefined;
    if (keyValue && key && ['occurredAt', 'environment', 'services', 'nodes', 'runbook', 'runbookInputs', 'links', 'title'].includes(key)) {
      const value = keyValue[2]!.replace(/^\*+|\*+$/g, '').trim();
      if (key === 'services' || key === 'nodes' || key === 'links') record[key] = [...((record[key] as string[]) ?? []), ...listOf(value)];
      else if (key === 'title') record.title ??= value;
      else record[key] ??= value;
      if (key !== 'runbook' || section !== 'resolution') continue;
    }
    if (section === 'links') {
      for (const url of line.match(/https?:\/\/[^\s)>\]]+/g) ?? []) record.links = [...((record.links as string[]) ?? []), url];
      continue;
    }
    add(section, line.replace(/^\s*[-*]\s+/, '').trim() ? line.trim() : '');
  }
  return normalise(record);
}
