// `jarvis ai diagnose|plan|search`: AI Ops through the API, so roles, the
// audit of every model call and the approvals of plan runs apply.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { JarvisProblem } from '../../manifest/errors.js';
import type { Citation } from '../../ai/diagnosis-evidence.js';
import type { PlanView } from '../../api/services/ai-plan-service.js';
import type { DiagnosisResult, SearchHit } from '../../api/services/ai-service.js';
import type { CliContext } from '../context.js';
import { outputOption } from '../options.js';
import { registerAiIncidentCommands } from './ai-incidents.js';
import { printData, renderTable, type OutputFormat } from '../output.js';

function describeCitation(citation: Citation): string {
  const where = [
    citation.runId ? `run ${citation.runId}` : '',
    citation.stepId ? `step ${citation.stepId}` : '',
    citation.lines ? (citation.lines.from === citation.lines.to ? `line ${citation.lines.from}` : `lines ${citation.lines.from}-${citation.lines.to}`) : '',
    citation.documentId ? `document ${citation.documentId}` : '',
  ].filter(Boolean);
  return `[${citation.n}] ${citation.kind}: ${citation.title}${where.length ? ` (${where.join(', ')})` : ''}`;
}

function renderDiagnosis(result: DiagnosisResult): string {
  const lines = [`Cause    ${result.cause}`, `Model    ${result.model ?? 'none (answered from retrieval)'}`, '', result.answer, ''];
  if (result.suspectLines.length > 0) lines.push('Suspect lines (they address an AI assistant; not used as evidence)', ...result.suspectLines.map((line) => `  ${line.seq}: ${line.text}`), '');
  if (result.citations.length > 0) lines.push('Sources', ...result.citations.map(describeCitation), '');
  if (result.similarIncidents.length > 0) {
    lines.push('Similar past incidents');
    for (const incident of result.similarIncidents) {
      lines.push(`- ${incident.title} (score ${incident.score}${incident.runId ? `, run ${incident.runId}` : ''})`);
      for (const resolution of incident.resolutions) lines.push(`    resolved by: ${resolution.title}`);
    }
  }
  if (result.accounting)
    lines.push('', `${result.accounting.promptTokens} prompt + ${result.accounting.completionTokens} completion tokens, ${result.accounting.latencyMs} ms, $${result.accounting.costUsd.toFixed(4)}`);
  lines.push(`Answer id ${result.id} (for feedback)`);
  return lines.join('\n');
}

function renderPlan(plan: PlanView): string {
  const lines = [
    `Plan     ${plan.id} (${plan.status})`,
    `Env      ${plan.environment}    Source ${plan.source}${plan.model ? ` (${plan.model})` : ''}`,
    `Goal     ${plan.goal}`,
    `Risk     ${plan.risk.level} (score ${plan.risk.score})`,
    `Valid    ${plan.valid ? 'yes' : 'no'}`,
    '',
    renderTable(plan.risk.steps, [
      { header: 'step', value: (step) => step.id },
      { header: 'action', value: (step) => step.action },
      { header: 'risk', value: (step) => step.risk },
    ]),
    '',
    stringify(plan.manifest).trimEnd(),
  ];
  if (plan.errors.length > 0) lines.push('', 'Errors', ...plan.errors.map((error) => `  ${error.path}: ${error.message}`));
  return lines.join('\n');
}

export function registerAiCommands(program: Command, context: CliContext): void {
  const ai = program.command('ai').description('AI Ops: diagnosis, remediation plans and the knowledge base (through the API)');
  registerAiIncidentCommands(ai, context);

  ai.command('diagnose')
    .description('why a run failed: its failing step, the log lines with the error, and similar past incidents with what fixed them')
    .argument('<run-id>')
    .addOption(outputOption())
    .action(async (runId: string, options: { output: OutputFormat }) => {
      const result = await context.api().call<DiagnosisResult>('POST', '/ai/diagnose', { runId });
      printData(options.output, result, renderDiagnosis);
    });

  ai.command('plan')
    .description('propose a remediation plan (a runbook of catalog actions); --submit starts it as a run that waits for an approver')
    .argument('<text>', 'what the plan should achieve')
    .requiredOption('-e, --env <environment>', 'the environment the plan is for')
    .option('--run <run-id>', 'the failed run the plan remedies')
    .option('--submit', 'submit the plan if it is valid')
    .addOption(outputOption())
    .action(async (goal: string, options: { env: string; run?: string; submit?: boolean; output: OutputFormat }) => {
      const api = context.api();
      const plan = await api.call<PlanView>('POST', '/ai/plans', { environment: options.env, goal, ...(options.run ? { runId: options.run } : {}) });
      if (!options.submit) return printData(options.output, plan, renderPlan);
      if (!plan.valid) {
        printData(options.output, plan, renderPlan);
        throw new JarvisProblem(`plan ${plan.id} is not valid and was not submitted`, 'conflict', plan.errors);
      }
      const { runId } = await api.call<{ runId: string }>('POST', `/ai/plans/${plan.id}/submit`);
      printData(
        options.output,
        { ...plan, status: 'submitted' as const, submittedRunId: runId },
        (submitted) => `${renderPlan(submitted)}\n\nSubmitted as run ${runId}: it waits for an approver (not you) before anything runs.`,
      );
    });

  ai.command('search')
    .description('search the knowledge base: failed runs, incidents, resolutions, notes, runbooks, answers')
    .argument('<text>')
    .requiredOption('-e, --env <environment>', 'the environment to search')
    .option('--kinds <kinds>', 'only these kinds, comma-separated (e.g. failed_run,resolution)')
    .option('--limit <n>', 'at most this many hits', (value) => Number.parseInt(value, 10), 10)
    .addOption(outputOption())
    .action(async (text: string, options: { env: string; kinds?: string; limit: number; output: OutputFormat }) => {
      const query = new URLSearchParams({ q: text, environment: options.env, limit: String(options.limit), ...(options.kinds ? { kinds: options.kinds } : {}) });
      const { hits } = await context.api().call<{ hits: SearchHit[] }>('GET', `/ai/search?${query}`);
      printData(options.output, hits, [
        { header: 'score', value: (hit) => hit.score.toFixed(3) },
        { header: 'kind', value: (hit) => hit.kind },
        { header: 'title', value: (hit) => (hit.title.length > 70 ? `${hit.title.slice(0, 69)}…` : hit.title) },
        { header: 'run', value: (hit) => hit.runId },
        { header: 'document', value: (hit) => hit.documentId },
      ]);
    });
}
