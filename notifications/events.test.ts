// Which events one projection write reports, who receives them, and their words.
import { describe, expect, it } from 'vitest';
import type { RunSummaryUpdate } from '../runs/run-summary-store.js';
import type { StepProgress } from '../workflows/messages.js';
import { runEventsOf } from './events.js';
import { renderNotification } from './messages.js';
import { subscriberWants } from './notification-store.js';

const gate: StepProgress = { id: 'gate', kind: 'approval', status: 'waiting', attempts: 0, approval: { role: 'approver', required: 1, allowStarter: false, approvedBy: [] } };

function update(status: RunSummaryUpdate['run']['status'], steps: StepProgress[], executionId = 'e1'): RunSummaryUpdate {
  return {
    workflowId: 'deploy@dev.1',
    executionId,
    sequence: 1,
    complete: true,
    run: { runbook: 'deploy', version: '1', environment: 'dev', startedBy: 'olga@example.org', status, startedAt: '2026-12-01T10:00:00.000Z', compensations: [] },
    steps: steps.map((step, position) => ({ position, step })),
  };
}

describe('run events', () => {
  it('report a start, a waiting approval, and an end, each keyed once per execution', () => {
    expect(runEventsOf(undefined, update('running', [])).map((event) => [event.kind, event.dedupKey])).toEqual([['run.started', 'run:deploy@dev.1:e1:run.started']]);
    expect(runEventsOf({ executionId: 'e1', status: 'running' }, update('running', [gate])).map((event) => event.kind)).toEqual(['approval.waiting']);
    const failed = runEventsOf({ executionId: 'e1', status: 'running' }, update('failed', [{ id: 'build', kind: 'action', status: 'failed', attempts: 1, error: 'exit 1' }]));
    expect(failed).toEqual([expect.objectContaining({ kind: 'run.failed', payload: expect.objectContaining({ failedStep: { id: 'build', error: 'exit 1' } }) })]);
    // The same status published again reports nothing new; a resumed run's new execution starts again.
    expect(runEventsOf({ executionId: 'e1', status: 'failed' }, update('failed', []))).toEqual([]);
    expect(runEventsOf({ executionId: 'e1', status: 'failed' }, update('running', [], 'e2')).map((event) => event.dedupKey)).toEqual(['run:deploy@dev.1:e2:run.started']);
  });

  it("leave a child runbook's start and end to its parent, but not its approvals", () => {
    const child = { ...update('running', [gate]), parentRunId: 'parent@dev.1' };
    expect(runEventsOf(undefined, child).map((event) => event.kind)).toEqual(['approval.waiting']);
    expect(runEventsOf({ executionId: 'e1', status: 'running' }, { ...update('failed', []), parentRunId: 'parent@dev.1' })).toEqual([]);
  });

  it('report a decision, not a partial approval', () => {
    const partial = { ...gate, approval: { ...gate.approval!, required: 2, approvedBy: [{ user: 'pablo@example.org', at: '' }] } };
    expect(runEventsOf({ executionId: 'e1', status: 'running' }, update('running', [partial])).map((event) => event.kind)).toEqual(['approval.waiting']);
    const approved = { ...gate, approval: { ...gate.approval!, approvedBy: [{ user: 'pablo@example.org', at: '' }] } };
    expect(runEventsOf({ executionId: 'e1', status: 'running' }, update('running', [approved]))).toEqual([
      expect.objectContaining({ kind: 'approval.decided', payload: expect.objectContaining({ decision: { outcome: 'approved', by: ['pablo@example.org'] } }) }),
    ]);
  });
});

describe('recipients of personal subscriptions', () => {
  const waiting = { runId: 'r', startedBy: 'olga@example.org', step: { id: 'gate', role: 'approver', required: 1, allowStarter: false, approvedBy: [] } };
  it('send a waiting approval to who may decide it, never to the starter', () => {
    expect(subscriberWants('approval.waiting', waiting, { email: 'pablo@example.org', roles: ['approver'] })).toBe(true);
    expect(subscriberWants('approval.waiting', waiting, { email: 'ada@example.org', roles: ['admin'] })).toBe(true);
    expect(subscriberWants('approval.waiting', waiting, { email: 'olga@example.org', roles: ['approver', 'operator'] })).toBe(false);
    expect(subscriberWants('approval.waiting', { ...waiting, step: { ...waiting.step, allowStarter: true } }, { email: 'olga@example.org', roles: ['approver'] })).toBe(false);
    expect(subscriberWants('approval.waiting', waiting, { email: 'vera@example.org', roles: ['viewer'] })).toBe(false);
    expect(subscriberWants('approval.waiting', { ...waiting, step: { ...waiting.step, approvedBy: ['pablo@example.org'] } }, { email: 'pablo@example.org', roles: ['approver'] })).toBe(false);
  });

  it("send run events to the run's starter only, and node events to admins", () => {
    expect(subscriberWants('run.failed', { startedBy: 'olga@example.org' }, { email: 'olga@example.org', roles: ['operator'] })).toBe(true);
    expect(subscriberWants('run.failed', { startedBy: 'olga@example.org' }, { email: 'ada@example.org', roles: ['admin'] })).toBe(false);
    expect(subscriberWants('node.unreachable', {}, { email: 'ada@example.org', roles: ['admin'] })).toBe(true);
    expect(subscriberWants('node.unreachable', {}, { email: 'vera@example.org', roles: ['viewer'] })).toBe(false);
  });
});

describe('messages', () => {
  it('are written in English and Portuguese, with the run link and the last lines', () => {
    const input = {
      kind: 'run.failed' as const,
      environment: 'prod',
      payload: { runId: 'deploy@prod.1', runbook: 'deploy', failedStep: { id: 'build', title: 'Build', error: 'exit 1' } },
      publicWebUrl: 'https://jarvis.example/',
      logLines: ['npm ERR! missing script'],
    };
    const en = renderNotification(input, 'en');
    expect(en.subject).toBe('Run failed: deploy (deploy@prod.1) in prod');
    expect(en.text).toContain('Failing step: Build (build): exit 1');
    expect(en.text).toContain('Last lines:\nnpm ERR! missing script');
    expect(en.link).toBe('https://jarvis.example/runs/deploy%40prod.1');
    const pt = renderNotification(input, 'pt-BR');
    expect(pt.subject).toBe('Execução falhou: deploy (deploy@prod.1) em prod');
    expect(pt.text).toContain('Etapa com falha: Build (build): exit 1');
    expect(renderNotification({ ...input, logLines: ['<script>'] }, 'en').html).toContain('&lt;script&gt;');
  });
});
