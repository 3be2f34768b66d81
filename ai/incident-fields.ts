// The fields of an incident as exports and postmortems name them: aliases of
// each field's name ("root_cause", "Root cause", "rootCause" are the cause),
// lists written as text, and the runbook a resolution names, with its inputs.
// Shared by the JSON, CSV and Markdown readers.

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

export function canonicalKey(key: string): string | undefined {
  return KEY_ALIASES[
    key
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_')
      .replace(/[^a-z_]/g, '')
  ];
}

export function listOf(value: unknown): string[] {
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
export function normalise(raw: Record<string, unknown>): Record<string, unknown> {
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
