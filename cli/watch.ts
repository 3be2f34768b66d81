import { formatDuration } from '../manifest/duration.js';
import type { RunService } from '../runs/run-service.js';
import type { RunDetails, StepProgress } from '../runs/run-contract.js';

const FINAL_TEMPORAL_STATUSES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

function describeStep(step: StepProgress): string {
  const label = `${step.id}${step.action ? ` (${step.action})` : ''}`;
  const took = step.startedAt && step.endedAt ? ` in ${formatDuration(Date.parse(step.endedAt) - Date.parse(step.startedAt))}` : '';
  const attempts = step.attempts > 1 ? `, ${step.attempts} attempts` : '';
  switch (step.status) {
    case 'running':
      return `▶ ${label} running${step.attempts > 1 ? ` (attempt ${step.attempts})` : ''}`;
    case 'waiting':
      return `⏸ ${label} waiting for approval by a ${step.approval?.role}${step.approval?.deadline ? ` before ${step.approval.deadline}` : ''}`;
    case 'succeeded':
      return `✔ ${label} succeeded${took}${attempts}`;
    case 'skipped':
      return `↷ ${label} skipped (condition false)`;
    default:
      return `✘ ${label} ${step.status}${took}${attempts}${step.error ? `: ${step.error}` : ''}`;
  }
}

/** Follows a run until it ends, printing each step change; resolves with the final details. */
export async function watchRun(service: Pick<RunService, 'showRun'>, id: string, print: (line: string) => void, pollMs = 500): Promise<RunDetails> {
  const seen = new Map<string, string>();
  for (;;) {
    const details = await service.showRun(id);
    for (const step of details.progress?.steps ?? []) {
      const line = describeStep(step);
      if (step.status !== 'pending' && seen.get(step.id) !== line) {
        seen.set(step.id, line);
        print(line);
      }
    }
    for (const compensation of details.progress?.compensations ?? []) {
      const key = `compensate:${compensation.forStep}:${compensation.id}`;
      const line = `↺ compensation ${compensation.id} of ${compensation.forStep} ${compensation.status}${compensation.error ? `: ${compensation.error}` : ''}`;
      if (seen.get(key) !== line) {
        seen.set(key, line);
        print(line);
      }
    }
    if (FINAL_TEMPORAL_STATUSES.has(details.status)) return details;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function runOutcome(details: RunDetails): string {
  return details.progress?.status ?? details.status.toLowerCase();
}

/** The command failed and has said why already: exit 1 without another message. */
export class CommandFailed extends Error {}

/** Reports a started run and, with --watch, follows it to its end; a run that does not succeed fails the command. */
export async function reportStarted(service: Pick<RunService, 'showRun'>, started: { id: string }, watch: boolean, verb: string): Promise<void> {
  console.log(`${verb} run ${started.id}`);
  if (!watch) {
    console.log(`Follow it with: npx jarvis run show ${started.id}`);
    return;
  }
  const details = await watchRun(service, started.id, (line) => console.log(`  ${line}`));
  const outcome = runOutcome(details);
  console.log(`Run ${started.id} ${outcome}${details.error ? `: ${details.error}` : ''}`);
  if (outcome !== 'succeeded') throw new CommandFailed();
}
