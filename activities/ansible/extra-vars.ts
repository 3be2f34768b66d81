// Extra variables for ansible-playbook as a file (`-e @file`) in which every
// string is tagged `!unsafe`: Ansible then never templates it, so Jinja in a
// value a user typed (`{{ lookup('pipe', 'id') }}`) stays text instead of
// running on the worker.

/** YAML (a JSON superset) with each string tagged `!unsafe`. */
export function unsafeExtraVarsYaml(vars: Record<string, unknown>): string {
  return `${render(vars)}\n`;
}

function render(value: unknown): string {
  if (typeof value === 'string') return `!unsafe ${JSON.stringify(value)}`;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(render).join(', ')}]`;
  if (typeof value === 'object') {
    // Keys are data too: a JSON string key is never templated by Ansible.
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([key, entry]) => `${JSON.stringify(key)}: ${render(entry)}`)
      .join(', ')}}`;
  }
  return `!unsafe ${JSON.stringify(String(value))}`;
}
