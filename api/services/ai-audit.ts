// Shared by the AI services: who is asking, and the audit entry every model
// call leaves (who, the model, tokens, latency, cost, and what it produced).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallAccounting } from '../../ai/model-provider.js';
import type { AuditService } from './audit-service.js';

export interface Caller {
  id: string;
  email: string;
}

export interface PublicAccounting {
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  costUsd: number;
}

/** Who is asking, for the audit of embedding calls made deep inside the knowledge store. */
export const aiCallers = new AsyncLocalStorage<Caller>();

export function publicAccounting(accounting: CallAccounting): PublicAccounting {
  return { model: accounting.model, promptTokens: accounting.promptTokens, completionTokens: accounting.completionTokens, latencyMs: accounting.latencyMs, costUsd: accounting.costUsd };
}

export class ModelCallAudit {
  constructor(private readonly audit: AuditService) {}

  async success(caller: Caller, action: string, targetId: string, accounting: CallAccounting, details: Record<string, unknown>): Promise<void> {
    await this.audit.record({ actorId: caller.id, actorEmail: caller.email, action, targetType: 'ai', targetId, outcome: 'success', details: { ...accounting, ...details } });
  }

  async failure(caller: Caller, action: string, model: string | null, error: unknown): Promise<void> {
    await this.audit.record({ actorId: caller.id, actorEmail: caller.email, action, targetType: 'ai', outcome: 'failure', details: { model, error: (error as Error).message } });
  }
}
