// An artifact as the API lists it, and how sizes are written: shared by the
// API, the CLI and the web (no imports, so the web bundle takes it as is).

/** A file a step published, as `GET /runs/:id/artifacts` lists it. */
export interface ArtifactEntry {
  id: string;
  name: string;
  stepId: string;
  attempt: number;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: string;
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
