// AI Ops plans: proposed remediations (a model's structured output, or the
// resolutions that fixed similar incidents), validated like any manifest plus
// the plan checks, stored, and submitted as runs that start with an approval;
// and the per-environment action policy plans must respect.
import { randomUUID } from 'node:crypto';
import { EvidenceGatherer } from '../../ai/diagnosis-evidence.js';
import type { KnowledgeStore } from '../../ai/knowledge-store.js';
import type { CallAccounting, ModelProvider } from '../../ai/model-provider.js';
import { planFromPastResolutions, planMessages, planOutputSchema, type Inventory } from '../../ai/planner.js';
import type { ActionPolicy, PlanStore, StoredPlan } from '../../ai/plan-store.js';
import { gatedManifest, planManifest, validatePlan, type PlanContext, type PlanValidation } from '../../ai/plan-validation.js';
import type { NodeStore } from '../../infra/node-store.js';
import type { RunLogStore } from '../../logs/run-log-store.js';
import { actionCatalog } from '../../activities/catalog.js';
import { loadManifest } from '../../manifest/loader.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { RunbookCatalog } from '../../manifest/catalog.js';
import type { RunService } from '../../runs/run-service.js';
import { aiCallers, ModelCallAudit, type Caller } from './ai-audit.js';
import type { AuditService } from './audit-service.js';
import type { ConnectionService } from './connection-service.js';

export interface PlanView {
  id: string;
  environment: string;
  goal: string;
  runId?: string;
  manifest: Record<string, unknown>;
  valid: boolean;
  errors: StoredPlan['errors'];
  risk: StoredPlan['risk'];
  source: StoredPlan['source'];
  model: string | null;
  status: StoredPlan['status'];
  submittedRunId?: string;
  outcomeReason?: string;
  createdBy: string;
  createdAt: string;
}

function planView(plan: StoredPlan): PlanView {
  return {
    id: plan.id,
    environment: plan.environment,
    goal: plan.goal,
    ...(plan.runId ? { runId: plan.runId } : {}),
    manifest: plan.manifest,
    valid: plan.valid,
    errors: plan.errors,
    risk: plan.risk,
    source: plan.source,
    model: plan.model,
    status: plan.status,
    ...(plan.submittedRunId ? { submittedRunId: plan.submittedRunId } : {}),
    ...(plan.outcomeReason ? { outcomeReason: plan.outcomeReason } : {}),
    createdBy: plan.createdBy,
    createdAt: plan.createdAt,
  };
}

export interface AiPlanServiceDependencies {
  runs: RunService;
  logs: RunLogStore;
  knowledge: KnowledgeStore;
  plans: PlanStore;
  audit: AuditService;
  nodes: NodeStore;
  connections: ConnectionService;
  /** Absent when no chat model is configured: plans come from past resolutions. */
  provider?: ModelProvider;
  /** The runbooks a past resolution may name (the offline planner expands them). */
  catalog?: RunbookCatalog;
}

export class AiPlanService {
  private readonly evidence: EvidenceGatherer;
  private readonly modelCalls: ModelCallAudit;

  constructor(private readonly deps: AiPlanServiceDependencies) {
    this.evidence = new EvidenceGatherer(deps.runs, deps.logs, deps.knowledge);
    this.modelCalls = new ModelCallAudit(deps.audit);
  }

  /** The plan a route is about, for authorization before anything else. */
  async planEnvironment(id: string): Promise<string> {
    return (await this.requirePlan(id)).environment;
  }

  async proposePlan(caller: Caller, request: { environment: string; goal: string; runId?: string }): Promise<PlanView> {
    return aiCallers.run(caller, async () => {
      const evidence = request.runId ? await this.evidence.forRun(request.runId) : await this.evidence.forText(request.environment, request.goal);
      if (evidence.environment !== request.environment) throw new JarvisProblem(`run ${request.runId} is in ${evidence.environment}, not ${request.environment}`, 'invalid');
      const { context, inventory } = await this.planContext(request.environment, evidence.runTargets);
      const id = randomUUID();
      const provider = this.deps.provider;
      let steps: unknown[];
      let sourceDocumentIds: string[] = [];
      let summary: string | undefined;
      let accounting: CallAccounting | undefined;
      if (provider) {
        try {
          const result = await provider.structured({
            messages: planMessages(request.goal, evidence, inventory, context.policy),
            schema: planOutputSchema,
            schemaName: 'remediation_plan',
            temperature: 0.2,
          });
          accounting = result.accounting;
          steps = result.value.steps;
        } catch (error) {
          await this.modelCalls.failure(caller, 'ai.plan', this.deps.provider?.chatModel ?? null, error);
          throw new JarvisProblem(`the model did not produce a usable plan: ${(error as Error).message}`, 'unavailable');
        }
      } else {
        const past = await planFromPastResolutions(request.goal, evidence, this.deps.knowledge, (name) => this.deps.catalog?.source(name));
        if (!past)
          throw new JarvisProblem(
            'no AI model is configured, and no past resolution matches this: the offline planner only proposes what fixed similar incidents before (steps, a runbook or a catalog action named by a resolution or note)',
            'not-found',
          );
        steps = past.steps;
        sourceDocumentIds = past.sourceDocumentIds;
        summary = past.summary;
      }
      const manifest = planManifest(id, request.environment, request.goal, steps);
      // Offline, the description says which past resolution the steps come from.
      if (summary) manifest.description = summary;
      const validation = validatePlan(manifest, context);
      const plan = await this.deps.plans.create({
        id,
        environment: request.environment,
        goal: request.goal,
        runId: request.runId ?? null,
        incidentDocumentId: evidence.incidentDocumentId ?? null,
        sourceDocumentIds,
        manifest,
        valid: validation.valid,
        errors: validation.errors,
        risk: validation.risk,
        source: provider ? 'model' : 'past-resolutions',
        model: accounting?.model ?? null,
        createdBy: caller.email,
      });
      if (accounting)
        await this.modelCalls.success(caller, 'ai.plan', id, accounting, {
          runId: request.runId ?? null,
          plan: manifest,
          valid: validation.valid,
          errors: validation.errors,
          risk: validation.risk.level,
        });
      return planView(plan);
    });
  }

  async validateManifest(environment: string, manifest: unknown, runId?: string): Promise<Pick<PlanValidation, 'valid' | 'errors' | 'risk'>> {
    const targets = runId ? await this.evidence.runTargets(runId) : new Set<string>();
    const { valid, errors, risk } = validatePlan(manifest, (await this.planContext(environment, targets)).context);
    return { valid, errors, risk };
  }

  async getPlan(id: string): Promise<PlanView> {
    return planView(await this.requirePlan(id));
  }

  /** Starts the plan's run: an approval first, one before each high-risk step. A plan runs once, and only when valid now. */
  async submitPlan(caller: Caller, id: string): Promise<{ runId: string }> {
    const plan = await this.requirePlan(id);
    if (plan.status !== 'proposed') throw new JarvisProblem(`plan ${id} was already submitted${plan.submittedRunId ? ` (run ${plan.submittedRunId})` : ''}`, 'conflict');
    const targets = plan.runId ? await this.evidence.runTargets(plan.runId) : new Set<string>();
    const validation = validatePlan(plan.manifest, (await this.planContext(plan.environment, targets)).context);
    if (!validation.valid) throw new JarvisProblem(`plan ${id} is not valid and cannot be submitted`, 'conflict', validation.errors);
    const loaded = loadManifest(gatedManifest(plan.manifest), actionCatalog);
    if (!loaded.ok) throw new JarvisProblem(`plan ${id} cannot be wrapped in its approvals`, 'conflict', loaded.errors);
    if (!(await this.deps.plans.claimForSubmission(id, caller.email))) throw new JarvisProblem(`plan ${id} was already submitted`, 'conflict');
    try {
      const started = await this.deps.runs.startRun({ runbook: loaded.compiled, inputs: {}, environment: plan.environment, startedBy: caller.email, planId: id });
      await this.deps.plans.recordSubmittedRun(id, started.id);
      return { runId: started.id };
    } catch (error) {
      await this.deps.plans.releaseClaim(id);
      throw error;
    }
  }

  async policy(environment: string): Promise<ActionPolicy> {
    return this.deps.plans.policy(environment);
  }

  async setPolicy(environment: string, policy: ActionPolicy): Promise<ActionPolicy> {
    await this.deps.plans.setPolicy(environment, policy);
    return this.deps.plans.policy(environment);
  }

  private async planContext(environment: string, runTargets: Set<string>): Promise<{ context: PlanContext; inventory: Inventory }> {
    const [policy, nodes, connections] = await Promise.all([this.deps.plans.policy(environment), this.deps.nodes.list([environment]), this.deps.connections.list([environment])]);
    const nodeNames = new Set(nodes.flatMap((node) => [node.name, ...(node.address ? [node.address] : [])]));
    return {
      context: { environment, policy, nodes: nodeNames, connections: new Set(connections.map((connection) => connection.name)), runTargets },
      inventory: { nodes: nodes.map((node) => node.name), connections: connections.map((connection) => ({ name: connection.name, type: connection.type })) },
    };
  }

  private async requirePlan(id: string): Promise<StoredPlan> {
    const plan = await this.deps.plans.find(id);
    if (!plan) throw new JarvisProblem(`no plan ${id}`, 'not-found');
    return plan;
  }
}
