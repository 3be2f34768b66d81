// Incidents as first-class knowledge: what a team knows from outside Jarvis
// (postmortems, tickets, exports), recorded with its symptoms, cause and
// resolution. An incident is an `incident` document (what the failure looked
// like, embedded: symptoms, error lines, cause) and its resolution a
// `resolution` document linked to it, which may name a runbook and its
// inputs or catalog steps, so the offline planner can propose it again.
import { z } from 'zod';
import { readFailure, signaturesIn } from './error-signatures.js';
import type { KnowledgeDocument, NewKnowledgeDocument } from './knowledge-documents.js';

const name = z.string().trim().min(1).max(200);
const text = (max: number) => z.string().max(max).default('');

export const resolutionStepSchema = z.object({
  id: z.string().min(1).max(90),
  title: z.string().max(200).optional(),
  action: z.string().min(1).max(100),
  with: z.record(z.string(), z.unknown()).default({}),
});

export const incidentSchema = z.object({
  title: z.string().trim().min(1).max(500),
  /** When it happened (defaults to when it is recorded). */
  occurredAt: z.coerce.date().optional(),
  environment: name,
  services: z.array(name).max(50).default([]),
  nodes: z.array(name).max(50).default([]),
  /** What was seen: error messages, alerts, user reports. */
  symptoms: text(20_000),
  cause: text(10_000),
  resolution: text(20_000),
  /** The runbook (with its inputs) that resolved it, when one did. */
  resolutionRunbook: z.object({ name: z.string().trim().min(1).max(100), inputs: z.record(z.string(), z.unknown()).default({}) }).optional(),
  /** Catalog actions that resolved it, when written as steps. */
  resolutionSteps: z.array(resolutionStepSchema).max(20).optional(),
  links: z.array(z.string().trim().url().max(2_000)).max(20).default([]),
  /** Extra text kept with the incident but not embedded (a timeline, action items). */
  notes: text(50_000),
});

export type IncidentInput = z.input<typeof incidentSchema>;
export type Incident = z.output<typeof incidentSchema>;

/** The incident document: what tells this incident apart, first. */
export function incidentDocument(incident: Incident, createdBy: string, source: string): NewKnowledgeDocument {
  const body = [
    incident.symptoms.trim() ? `Symptoms: ${incident.symptoms.trim()}` : '',
    incident.cause.trim() ? `Cause: ${incident.cause.trim()}` : '',
    incident.services.length > 0 || incident.nodes.length > 0 ? `Affected: ${[...incident.services, ...incident.nodes].join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return {
    kind: 'incident',
    title: incident.title,
    body,
    environment: incident.environment,
    ...(incident.nodes[0] ? { node: incident.nodes[0] } : {}),
    // JSON keeps occurredAt as an ISO string, and drops it when absent.
    metadata: { incident: { ...incident }, signatures: incidentSignatures(incident), source },
    createdBy,
    // Its error signature and error lines, embedded apart from the prose around them: a failing run's error lines meet them there.
    logLines: keyLines(incident).map((text, index) => ({ number: index + 1, text })),
    ...(incident.occurredAt ? { createdAt: incident.occurredAt } : {}),
  };
}

/** The resolution document of an incident, when it says how it was resolved. */
export function resolutionDocument(incident: Incident, incidentId: string, createdBy: string): NewKnowledgeDocument | undefined {
  const said = incident.resolution.trim();
  if (!said && !incident.resolutionRunbook && !incident.resolutionSteps?.length) return undefined;
  const runbook = incident.resolutionRunbook;
  const firstLine = said.split('\n')[0]!.slice(0, 200) || (runbook ? `ran ${runbook.name}` : 'the recorded steps');
  return {
    kind: 'resolution',
    title: `Resolution of "${incident.title.slice(0, 200)}": ${firstLine}`,
    body: [
      said,
      runbook
        ? `Runbook: ${runbook.name}${Object.entries(runbook.inputs)
            .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
            .join('')}`
        : '',
    ]
      .filter(Boolean)
      .join('\n'),
    environment: incident.environment,
    ...(runbook ? { runbook: runbook.name } : {}),
    incidentId,
    metadata: { fromIncident: true, ...(runbook ? { resolutionRunbook: runbook } : {}), ...(incident.resolutionSteps?.length ? { manifest: { steps: incident.resolutionSteps } } : {}) },
    createdBy,
  };
}

/** The incident a document holds, as it was recorded. */
export function incidentOf(document: KnowledgeDocument): Incident | undefined {
  const parsed = incidentSchema.safeParse(document.metadata.incident ?? {});
  return parsed.success ? parsed.data : undefined;
}

/** The error signature's cause and the lines of the symptoms that show an error, as a failing run's log would. */
function keyLines(incident: Incident): string[] {
  const lines = `${incident.symptoms}\n${incident.cause}`
    .split('\n')
    .map((text, index) => ({ seq: index + 1, stream: 'text', text: text.trim() }))
    .filter((line) => line.text);
  const reading = readFailure(lines);
  const errors = reading.errorLines.slice(0, 8).map((line) => line.text.slice(0, 500));
  return errors.length > 0 || reading.signature ? [...(reading.signature ? [reading.signature.cause] : []), ...errors] : [];
}

/** The error signatures of what was seen; the cause only when the symptoms show none (its prose says "timed out" of other things). */
function incidentSignatures(incident: Incident): string[] {
  const seen = signaturesIn(incident.symptoms);
  return seen.length > 0 ? seen : signaturesIn(incident.cause);
}
