/** The last part of an artifact's name, in characters every browser and shell takes: a file name, never a path. */
export function safeFileName(name: string): string {
  const last = name.split(/[/\\]/).filter(Boolean).pop() ?? '';
  const safe = last
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^[.]+/, '')
    .slice(0, 200);
  return safe || 'artifact';
}
