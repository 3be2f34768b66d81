// Recording, editing, reading and importing incidents in the knowledge base
// (see incidents.ts for what an incident holds, incident-import.ts for the
// formats). An incident and its resolution are two documents: the incident is
// what a new failure is compared with, the resolution what the answer and the
// offline planner propose.
import { parseIncidents, type ImportFormat } from './incident-import.js';
import { incidentDocument, incidentOf, incidentSchema, resolutionDocument, type Incident, type IncidentInput } from './incidents.js';
import { KnowledgeInputError, KnowledgeNotFoundError } from './knowledge-documents.js';
import type { KnowledgeStore } from './knowledge-store.js';

export interface RecordedIncident extends Incident {
  id: string;
  resolutionDocumentId?: string;
  createdBy: string | null;
}

export interface ImportOutcome {
  imported: Array<{ documentId: string; title: string; resolutionDocumentId?: string }>;
  errors: Array<{ record: number; title?: string; message: string }>;
}

/** At most this many incidents per import: a bigger export is split by the caller. */
export const MAX_IMPORTED_INCIDENTS = 500;

function parseIncident(input: IncidentInput): Incident {
  const parsed = incidentSchema.safeParse(input);
  if (!parsed.success) throw new KnowledgeInputError(`invalid incident: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(incident)'}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

export class IncidentBook {
  constructor(private readonly knowledge: KnowledgeStore) {}

  async add(input: IncidentInput, createdBy: string, source = 'recorded'): Promise<RecordedIncident> {
    const incident = parseIncident(input);
    const document = await this.knowledge.addDocument(incidentDocument(incident, createdBy, source));
    const resolution = resolutionDocument(incident, document.id, createdBy);
    try {
      const stored = resolution ? await this.knowledge.addDocument(resolution) : undefined;
      return { ...incident, id: document.id, createdBy, ...(stored ? { resolutionDocumentId: stored.id } : {}) };
    } catch (error) {
      // An incident without the resolution it was given would be offered without its fix: all or nothing.
      await this.knowledge.deleteDocument(document.id).catch(() => undefined);
      throw error;
    }
  }

  async update(id: string, input: IncidentInput, updatedBy: string): Promise<RecordedIncident> {
    const current = await this.get(id, input.environment);
    const incident = parseIncident(input);
    await this.knowledge.replaceDocument(id, incidentDocument(incident, current.createdBy ?? updatedBy, 'recorded'));
    const resolution = resolutionDocument(incident, id, updatedBy);
    let resolutionDocumentId = current.resolutionDocumentId;
    if (resolution && resolutionDocumentId) await this.knowledge.replaceDocument(resolutionDocumentId, resolution);
    else if (resolution) resolutionDocumentId = (await this.knowledge.addDocument(resolution)).id;
    else if (resolutionDocumentId) {
      await this.knowledge.deleteDocument(resolutionDocumentId);
      resolutionDocumentId = undefined;
    }
    return { ...incident, id, createdBy: current.createdBy, ...(resolutionDocumentId ? { resolutionDocumentId } : {}) };
  }

  /** An incident of an environment; one of another environment is answered as missing. */
  async get(id: string, environment: string): Promise<RecordedIncident> {
    const document = await this.knowledge.getDocument(id);
    const incident = document && document.kind === 'incident' && document.environment === environment ? incidentOf(document) : undefined;
    if (!document || !incident) throw new KnowledgeNotFoundError(`no incident ${id} in ${environment}`);
    const own = (await this.knowledge.resolutionsOf(id)).find((resolution) => resolution.metadata.fromIncident === true);
    return { ...incident, id, createdBy: document.createdBy, ...(own ? { resolutionDocumentId: own.id } : {}) };
  }

  async list(environment: string, limit: number): Promise<RecordedIncident[]> {
    const documents = await this.knowledge.listDocuments({ kind: 'incident', environment, limit });
    return documents.flatMap((document) => {
      const incident = incidentOf(document);
      return incident ? [{ ...incident, id: document.id, createdBy: document.createdBy }] : [];
    });
  }

  /** Imports every valid record; invalid ones are reported with their place and leave the others alone. */
  async import(format: ImportFormat, content: string, environment: string, createdBy: string): Promise<ImportOutcome> {
    const parsed = parseIncidents(format, content, environment);
    if (parsed.incidents.length > MAX_IMPORTED_INCIDENTS) throw new KnowledgeInputError(`at most ${MAX_IMPORTED_INCIDENTS} incidents per import (this one has ${parsed.incidents.length})`);
    const outcome: ImportOutcome = { imported: [], errors: parsed.errors };
    for (const incident of parsed.incidents) {
      const recorded = await this.add(incident, createdBy, `import:${format}`);
      outcome.imported.push({ documentId: recorded.id, title: recorded.title, ...(recorded.resolutionDocumentId ? { resolutionDocumentId: recorded.resolutionDocumentId } : {}) });
    }
    return outcome;
  }
}
