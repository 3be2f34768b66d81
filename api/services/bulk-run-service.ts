// Bulk actions on runs: select runs by filter (or by id) in the environments
// where the caller may execute, then cancel, re-run or resume each through
// RunService. Each run's outcome is its own: one failure stops nothing else.
// Every affected run gets an audit entry naming the bulk request.
import { randomUUID } from 'node:crypto';
import { JarvisProblem } from '../../manifest/errors.js';
import type { RunSummary } from '../../runs/run-contract.js';
import { idempotencyToken, idempotentRunId } from '../../runs/run-ids.js';
import type { RunService } from '../../runs/run-service.js';
import type { AuditService } from './audit-service.js';

export type BulkAction = 'cancel' | 'rerun' | 'resume';

export interface BulkFilter {
  runbook?: string;
  environment?: string;
  status?: string;
  startedAfter?: string;
  startedBefore?: string;
  startedBy?: string;
}

export interface BulkRequest {
  action: BulkAction;
  filter?: BulkFilter;
  /** Instead of (or within) a filter: exactly these runs (the web runs page's selection). */
  runIds?: string[];
  limit?: number;
  dryRun?: boolean;
  /** The caller's Idempotency-Key: a retried request with it acts on each run once. */
  idempotencyKey?: string;
}

export interface BulkCaller {
  id: string;
  email: string;
  /** Environments where the caller holds the execute permission. */
  executable: string[];
  ip?: string;
  userAgent?: string;
}

export interface BulkResult {
  runId: string;
  runbook?: string;
  environment?: string;
  status: string;
  ok: boolean;
  newRunId?: string;
  replayed?: boolean;
  error?: string;
}

export interface BulkAnswer {
  id: string;
  action: BulkAction;
  dryRun: boolean;
  selected: number;
  results: BulkResult[];
}

export const BULK_DEFAULT_LIMIT = 100;
export const BULK_MAX_LIMIT = 1000;
/** Runs acted on at once: enough to finish a thousand in reasonable time, few enough not to flood Temporal. */
const CONCURRENCY = 8;
const PAGE_SIZE = 200;

export class BulkRunService {
  constructor(
    private readonly runs: RunService,
    private readonly audit: AuditService,
  ) {}

  async perform(caller: BulkCaller, request: BulkRequest): Promise<BulkAnswer> {
    const { action } = request;
    const filter = request.filter ?? {};
    if (!request.runIds && !request.filter) throw new JarvisProblem('give a filter or runIds', 'invalid');
    if (filter.environment && !caller.executable.includes(filter.environment)) throw new JarvisProblem(`acting on runs in ${filter.environment} needs the operator role there`, 'forbidden');
    if (caller.executable.length === 0) throw new JarvisProblem('acting on runs needs the operator role in some environment', 'forbidden');
    const limit = Math.min(request.limit ?? BULK_DEFAULT_LIMIT, BULK_MAX_LIMIT);
    // With a key, the bulk id is stable across retries, and so is each run's re-run.
    const id = request.idempotencyKey ? idempotencyToken(caller.id, `bulk runs\n${request.idempotencyKey}`) : randomUUID();
    const token = (runId: string) => idempotencyToken(caller.id, `bulk ${id} ${action} of ${runId}`);
    const listed = request.runIds ? await this.pick(request.runIds.slice(0, limit), caller.executable) : await this.select(filter, caller.executable, limit);
    const selected = listed.filter((run) => !this.startedByThisBulk(run, token));
    if (request.dryRun) {
      return { id, action, dryRun: true, selected: selected.length, results: selected.map((run) => ({ ...describe(run), ok: true })) };
    }
    const results: BulkResult[] = new Array(selected.length);
    let next = 0;
    const worker = async () => {
      while (next < selected.length) {
        const index = next++;
        const run = selected[index]!;
        results[index] = await this.act(action, run, caller, token(run.id));
        await this.audit.record({
          actorId: caller.id,
          actorEmail: caller.email,
          action: `run.bulk.${action}`,
          targetType: 'run',
          targetId: run.id,
          ...(caller.ip ? { ip: caller.ip } : {}),
          ...(caller.userAgent ? { userAgent: caller.userAgent } : {}),
          outcome: results[index].ok ? 'success' : 'failure',
          details: { bulkId: id, ...(results[index].newRunId ? { newRun: results[index].newRunId } : {}), ...(results[index].error ? { error: results[index].error } : {}) },
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, selected.length) }, worker));
    return { id, action, dryRun: false, selected: selected.length, results };
  }

  /** Pages through the list (Temporal visibility) until the limit or the last page. */
  private async select(filter: BulkFilter, executable: string[], limit: number): Promise<RunSummary[]> {
    const { environment, ...rest } = filter;
    const selected: RunSummary[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.runs.listRunPage({ ...rest, environments: environment ? [environment] : executable, limit: Math.min(PAGE_SIZE, limit - selected.length), ...(cursor ? { cursor } : {}) });
      selected.push(...page.runs);
      cursor = page.nextCursor;
    } while (cursor && selected.length < limit);
    return selected.slice(0, limit);
  }

  /** Named runs, each read and refused like the one-run routes: a run outside the caller's executable environments refuses the request (403), an unknown one too (404). */
  private async pick(ids: string[], executable: string[]): Promise<RunSummary[]> {
    const picked: RunSummary[] = [];
    for (const id of new Set(ids)) {
      const details = await this.runs.showRun(id);
      if (!details.environment || !executable.includes(details.environment))
        throw new JarvisProblem(`acting on run ${id} needs the operator role in ${details.environment ?? 'its environment'}`, 'forbidden');
      picked.push({
        id: details.id,
        runId: details.runId,
        status: details.status,
        startedAt: details.startedAt,
        environment: details.environment,
        ...(details.runbook ? { runbook: details.runbook } : {}),
        ...(details.rerunOf ? { rerunOf: details.rerunOf } : {}),
      });
    }
    return picked;
  }

  /** A re-run this same bulk request started (a retry lists it among the failed ones): it is not re-run again. */
  private startedByThisBulk(run: RunSummary, token: (runId: string) => string): boolean {
    return run.rerunOf !== undefined && run.runbook !== undefined && run.environment !== undefined && run.id === idempotentRunId(run.runbook, run.environment, token(run.rerunOf));
  }

  private async act(action: BulkAction, run: RunSummary, caller: BulkCaller, idempotency: string): Promise<BulkResult> {
    try {
      switch (action) {
        case 'cancel':
          await this.runs.cancelRun(run.id, run.runId);
          return { ...describe(run), ok: true };
        case 'rerun': {
          const started = await this.runs.rerun(run.id, caller.email, run.runId, idempotency);
          return { ...describe(run), ok: true, newRunId: started.id, ...(started.replayed ? { replayed: true } : {}) };
        }
        case 'resume': {
          const resumed = await this.runs.resume(run.id, caller.email, run.runId);
          return { ...describe(run), ok: true, newRunId: resumed.runId };
        }
      }
    } catch (error) {
      return { ...describe(run), ok: false, error: (error as Error).message };
    }
  }
}

function describe(run: RunSummary): Omit<BulkResult, 'ok'> {
  return { runId: run.id, ...(run.runbook ? { runbook: run.runbook } : {}), ...(run.environment ? { environment: run.environment } : {}), status: run.status };
}
