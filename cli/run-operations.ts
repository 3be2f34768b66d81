// What the run commands need, from either side: straight from Temporal (no
// API session: `--as` names the user) or through the API with the signed-in
// user's token (RBAC and audit apply).
import type { CompiledManifest } from '../manifest/loader.js';
import type { CompiledRunbook, Role } from '../manifest/types.js';
import { JarvisProblem } from '../manifest/errors.js';
import type { RunService } from '../runs/run-service.js';
import type { ApprovalAnswer, ListRunsFilter, RunDetails, RunSummary } from '../runs/run-contract.js';
import type { FleetTargetsPage, FleetTargetsRequest } from '../workflows/messages.js';
import type { ApiClient } from './api-client.js';

export interface Actor {
  user: string;
  roles: Role[];
}

export interface RunOperations {
  readonly via: 'temporal' | 'api';
  runbook(name: string): Promise<CompiledRunbook>;
  start(runbook: string | CompiledManifest, inputs: Record<string, unknown>, environment: string, actor: Actor): Promise<{ id: string }>;
  list(filter: ListRunsFilter): Promise<RunSummary[]>;
  showRun(id: string): Promise<RunDetails>;
  approve(id: string, step: string, actor: Actor, comment?: string): Promise<ApprovalAnswer>;
  reject(id: string, step: string, actor: Actor, reason: string): Promise<ApprovalAnswer>;
  cancel(id: string): Promise<void>;
  /** `targets`: fleet steps on the failed targets only, or on the same targets. */
  rerun(id: string, actor: Actor, targets?: 'failed' | 'same'): Promise<{ id: string }>;
  /** A page of a fleet step's targets with their results. */
  targets(id: string, request: FleetTargetsRequest): Promise<FleetTargetsPage>;
  resume(id: string, actor: Actor): Promise<{ id: string; runId: string; fromStep: string }>;
}

export class TemporalRunOperations implements RunOperations {
  readonly via = 'temporal' as const;
  constructor(private readonly service: RunService) {}
  async runbook(name: string) {
    return this.service.compileRunbook(name).runbook;
  }
  start(runbook: string | CompiledManifest, inputs: Record<string, unknown>, environment: string, actor: Actor) {
    return this.service.startRun({ runbook, inputs, environment, startedBy: actor.user });
  }
  list(filter: ListRunsFilter) {
    return this.service.listRuns(filter);
  }
  showRun(id: string) {
    return this.service.showRun(id);
  }
  approve(id: string, step: string, actor: Actor, comment?: string) {
    return this.service.approveStep(id, step, actor.user, actor.roles, comment);
  }
  reject(id: string, step: string, actor: Actor, reason: string) {
    return this.service.rejectStep(id, step, actor.user, actor.roles, reason);
  }
  cancel(id: string) {
    return this.service.cancelRun(id);
  }
  rerun(id: string, actor: Actor, targets?: 'failed' | 'same') {
    return this.service.rerun(id, actor.user, undefined, undefined, targets);
  }
  targets(id: string, request: FleetTargetsRequest) {
    return this.service.fleetTargets(id, request);
  }
  resume(id: string, actor: Actor) {
    return this.service.resume(id, actor.user);
  }
}

/** The same operations through the API, as the user the token belongs to (`--as` and `--role` do not apply). */
export class ApiRunOperations implements RunOperations {
  readonly via = 'api' as const;
  constructor(private readonly api: ApiClient) {}

  runbook(name: string) {
    return this.api.call<CompiledRunbook>('GET', `/runbooks/${encodeURIComponent(name)}`);
  }
  async start(runbook: string | CompiledManifest, inputs: Record<string, unknown>, environment: string) {
    if (typeof runbook !== 'string') {
      throw new JarvisProblem('through the API only catalog runbooks can be started; run the file without an API session (npx jarvis logout)', 'invalid');
    }
    return this.api.call<{ id: string }>('POST', `/runbooks/${encodeURIComponent(runbook)}/execute`, { environment, inputs });
  }
  list(filter: ListRunsFilter) {
    const query = new URLSearchParams(
      Object.entries({ status: filter.status, runbook: filter.runbook, environment: filter.environment, limit: filter.limit }).flatMap(([key, value]) =>
        value === undefined ? [] : [[key, String(value)]],
      ),
    );
    return this.api.call<RunSummary[]>('GET', `/runs?${query}`);
  }
  showRun(id: string) {
    return this.api.call<RunDetails>('GET', `/runs/${encodeURIComponent(id)}`);
  }
  approve(id: string, step: string, _actor: Actor, comment?: string) {
    return this.api.call<ApprovalAnswer>('POST', `/runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/approve`, comment ? { comment } : {});
  }
  reject(id: string, step: string, _actor: Actor, reason: string) {
    return this.api.call<ApprovalAnswer>('POST', `/runs/${encodeURIComponent(id)}/steps/${encodeURIComponent(step)}/reject`, { reason });
  }
  async cancel(id: string) {
    await this.api.call('POST', `/runs/${encodeURIComponent(id)}/cancel`);
  }
  rerun(id: string, _actor: Actor, targets?: 'failed' | 'same') {
    return this.api.call<{ id: string }>('POST', `/runs/${encodeURIComponent(id)}/rerun`, targets ? { targets } : undefined);
  }
  targets(id: string, request: FleetTargetsRequest) {
    const query = new URLSearchParams(
      Object.entries({ step: request.stepId, status: request.status, cursor: request.cursor, limit: request.limit }).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])),
    );
    return this.api.call<FleetTargetsPage>('GET', `/runs/${encodeURIComponent(id)}/targets?${query}`);
  }
  resume(id: string) {
    return this.api.call<{ id: string; runId: string; fromStep: string }>('POST', `/runs/${encodeURIComponent(id)}/resume`);
  }
}
