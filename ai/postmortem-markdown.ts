// Markdown postmortems in the shape of the usual templates: one per
// level-1 heading, "Key: value" lines (or a two-column table) for the date,
// environment, services, nodes and runbook, and sections by their headings:
// Summary, Impact, Detection and Symptoms are what was seen, Root cause the
// cause, Resolution or Mitigation the fix, Timeline and Action items kept but
// not searched, Links the links. Code blocks are error lines.
import { canonicalKey, listOf, normalise } from './incident-fields.js';

const SECTION_FIELDS: Array<[RegExp, string]> = [
  [/^(root )?causes?|contributing factors|why/i, 'cause'],
  [/^(resolution|remediation|mitigation|recovery|fix|how (it|we) (was )?(fixed|resolved))/i, 'resolution'],
  [/^(summary|impact|symptoms?|detection|what happened|trigger|errors?|description|overview)/i, 'symptoms'],
  [/^(timeline|action items|lessons|follow[- ]?ups?|what went|where we got lucky|supporting information)/i, 'notes'],
  [/^(links|references|tickets)/i, 'links'],
];

/** One postmortem per level-1 heading (or one for the whole file); "Key: value" lines before the first section set fields. */
export function markdownRecords(content: string): Array<Record<string, unknown>> {
  const documents: string[][] = [];
  for (const line of content.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^# /.test(line) || documents.length === 0) documents.push([]);
    documents.at(-1)!.push(line);
  }
  return documents.filter((lines) => lines.some((line) => line.trim())).map(markdownRecord);
}

function markdownRecord(lines: string[]): Record<string, unknown> {
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
