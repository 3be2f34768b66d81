// Every protected route, called as every role, in the caller's own environment
// and in one where they hold no role: no allow that should be a deny, no deny
// that should be an allow.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlanStore } from '../ai/plan-store.js';
import type { Role } from '../manifest/types.js';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const ROLES: Role[] = ['admin', 'operator', 'approver', 'viewer'];
const OWN = 'prod';
const OTHER = 'dev';

const gated = `
name: gated
title: Waits for an approval
environments: [dev, prod]
requiredRole: operator
steps:
  - id: gate
    approval: { role: approver }
`;

// Imports need the admin role in every environment the runbook runs in: this one runs in the own environment only.
const imported = `
name: matrix-import
title: Imported by the matrix
environments: [${OWN}]
steps:
  - id: say
    action: core.noop
`;

type Who = 'anyone' | 'admin-anywhere' | 'execute-anywhere' | { permission: 'read' | 'execute' | 'approve' | 'administer'; where: 'own' | 'other' };

interface Case {
  route: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Built per call, so state-changing cases get fresh targets. */
  request(environment: string, role: Role): Promise<{ url: string; payload?: unknown }>;
  who: Who;
  /** Environment-bound cases run in the own and the other environment. */
  bound: boolean;
}

const ALLOWED: Record<string, Role[]> = { read: ['admin', 'operator', 'approver', 'viewer'], execute: ['admin', 'operator'], approve: ['admin', 'approver'], administer: ['admin'] };

let api: Awaited<ReturnType<typeof startApiForTests>>;
const tokens = {} as Record<Role | 'starter', string>;
let targetUserId = '';
let starterId = '';
let sequence = 0;

async function startGatedRun(environment: string): Promise<string> {
  const { id } = await api.services.runs.startRun({ runbook: 'gated', inputs: {}, environment, startedBy: 'starter@example.org' });
  for (let tries = 0; tries < 100; tries += 1) {
    if ((await api.services.runs.showRun(id)).progress?.steps[0]?.status === 'waiting') return id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the run never waited');
}

/** A yearly schedule of the gated runbook, owned by the starter (operator in both environments). */
async function scheduleIn(environment: string): Promise<string> {
  const starter = await api.services.auth.principalOfUser((await api.prisma.user.findUniqueOrThrow({ where: { email: 'starter@example.org' } })).id);
  const created = await api.services.schedules.create(starter!, { name: `matrix-${(sequence += 1)}`, runbook: 'gated', environment, inputs: {}, spec: { cron: ['0 0 1 1 *'] }, policies: {} });
  return created.id;
}

async function connectionIn(environment: string): Promise<string> {
  return (await api.services.connections.create({ environment, name: `c${(sequence += 1)}`, type: 'http', config: {}, secret: 'x-secret' })).id;
}

/** A notification channel that goes nowhere: loopback is not allowlisted here, so a test delivery fails at once. */
async function channelIn(environment: string): Promise<string> {
  return (await api.services.connections.create({ environment, name: `ch${(sequence += 1)}`, type: 'webhook', config: { url: 'http://127.0.0.1:9/matrix' }, secret: 'matrix-signing' })).id;
}

async function ruleIn(environment: string): Promise<string> {
  return (await api.services.notifications.createRule(environment, { name: `rule-${(sequence += 1)}`, events: ['run.failed'], connectionId: await channelIn(environment) }, 'admin@example.org')).id;
}

async function nodeIn(environment: string): Promise<string> {
  return (await api.services.nodes.createEnrollment({ environment, name: `node-${(sequence += 1)}`, labels: {} }, 60_000)).node.id;
}

let planPool: pg.Pool | undefined;

/** A stored plan (invalid, so a submission that is allowed answers 409 and starts nothing). */
async function planIn(environment: string): Promise<string> {
  planPool ??= new pg.Pool({ connectionString: api.databaseUrl, max: 2 });
  const id = crypto.randomUUID();
  await new PlanStore(planPool).create({
    id,
    environment,
    goal: 'matrix',
    runId: null,
    incidentDocumentId: null,
    sourceDocumentIds: [],
    manifest: { name: 'ai-plan-matrix', title: 'Matrix', steps: [{ id: 'nuke', action: 'docker.nuke' }] },
    valid: false,
    errors: [{ path: 'steps[0].action', message: 'unknown action' }],
    risk: { level: 'low', score: 0, steps: [] },
    source: 'model',
    model: 'matrix',
    createdBy: 'starter@example.org',
  });
  return id;
}

/** A fresh user holding a role in that environment: managing their credentials needs admin there. */
async function userIn(environment: string): Promise<string> {
  const created = await api.services.users.createUser({ email: `managed-${(sequence += 1)}@example.org`, name: 'Managed', password: PASSWORD });
  await api.services.users.grant(created.id, environment, 'viewer');
  return created.id;
}

async function grantIn(environment: string): Promise<string> {
  await api.services.users.grant(targetUserId, environment, 'viewer');
  const grant = await api.prisma.roleGrant.findFirstOrThrow({ where: { userId: targetUserId, environment: { name: environment } } });
  return grant.id;
}

/** A trigger owned by the starter (operator in both environments), so only admins of its environment manage it. */
async function triggerIn(environment: string): Promise<string> {
  const starter = await api.services.triggers.principalOf(starterId);
  return (await api.services.triggers.create({ name: `t${(sequence += 1)}`, kind: 'webhook', runbook: 'gated', environment, auth: 'hmac' }, starter!)).trigger.id;
}

const cases: Case[] = [
  { route: 'GET /auth/me', method: 'GET', request: async () => ({ url: '/auth/me' }), who: 'anyone', bound: false },
  { route: 'POST /auth/api-tokens', method: 'POST', request: async () => ({ url: '/auth/api-tokens', payload: { name: 'matrix' } }), who: 'anyone', bound: false },
  { route: 'GET /auth/api-tokens', method: 'GET', request: async () => ({ url: '/auth/api-tokens' }), who: 'anyone', bound: false },
  { route: 'DELETE /auth/api-tokens/:id', method: 'DELETE', request: async () => ({ url: `/auth/api-tokens/${crypto.randomUUID()}` }), who: 'anyone', bound: false },
  // A wrong current password: allowed to ask (400), nothing changes.
  {
    route: 'POST /auth/password',
    method: 'POST',
    request: async () => ({ url: '/auth/password', payload: { currentPassword: 'not the password', newPassword: 'another long password' } }),
    who: 'anyone',
    bound: false,
  },
  { route: 'POST /auth/totp/setup', method: 'POST', request: async () => ({ url: '/auth/totp/setup' }), who: 'anyone', bound: false },
  { route: 'POST /auth/totp/enable', method: 'POST', request: async () => ({ url: '/auth/totp/enable', payload: { code: '000000' } }), who: 'anyone', bound: false },
  { route: 'POST /auth/totp/disable', method: 'POST', request: async () => ({ url: '/auth/totp/disable', payload: { code: '000000' } }), who: 'anyone', bound: false },
  { route: 'GET /metrics', method: 'GET', request: async () => ({ url: '/metrics' }), who: 'anyone', bound: false },
  { route: 'GET /runbooks', method: 'GET', request: async () => ({ url: '/runbooks' }), who: 'anyone', bound: false },
  { route: 'GET /runbooks/:name', method: 'GET', request: async () => ({ url: '/runbooks/gated' }), who: 'anyone', bound: false },
  { route: 'POST /runbooks/import', method: 'POST', request: async () => ({ url: '/runbooks/import', payload: { manifest: imported } }), who: 'admin-anywhere', bound: false },
  { route: 'GET /runbooks/:name/versions', method: 'GET', request: async () => ({ url: '/runbooks/gated/versions' }), who: 'anyone', bound: false },
  { route: 'POST /runbooks/validate', method: 'POST', request: async () => ({ url: '/runbooks/validate', payload: { manifest: gated } }), who: 'execute-anywhere', bound: false },
  {
    route: 'POST /runbooks/:name/execute',
    method: 'POST',
    request: async (environment) => ({ url: '/runbooks/gated/execute', payload: { environment } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  { route: 'GET /schedules', method: 'GET', request: async (environment) => ({ url: `/schedules?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'POST /schedules',
    method: 'POST',
    request: async (environment) => ({ url: '/schedules', payload: { name: `matrix-${(sequence += 1)}`, runbook: 'gated', environment, spec: { cron: ['0 0 1 1 *'] } } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  { route: 'GET /schedules/:id', method: 'GET', request: async (environment) => ({ url: `/schedules/${await scheduleIn(environment)}` }), who: { permission: 'read', where: 'own' }, bound: true },
  ...(['pause', 'unpause', 'trigger'] as const).map((verb): Case => ({
    route: `POST /schedules/:id/${verb}`,
    method: 'POST',
    request: async (environment) => ({ url: `/schedules/${await scheduleIn(environment)}/${verb}`, payload: {} }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  })),
  {
    route: 'POST /schedules/:id/backfill',
    method: 'POST',
    request: async (environment) => ({ url: `/schedules/${await scheduleIn(environment)}/backfill`, payload: { start: '2020-01-01T00:00:00Z', end: '2020-01-02T00:00:00Z' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'DELETE /schedules/:id',
    method: 'DELETE',
    request: async (environment) => ({ url: `/schedules/${await scheduleIn(environment)}` }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  { route: 'GET /runs', method: 'GET', request: async (environment) => ({ url: `/runs?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'GET /runs/:id', method: 'GET', request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'GET /runs/:id/history',
    method: 'GET',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/history` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /runs/:id/timeline',
    method: 'GET',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/timeline` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /runs/:id/artifacts',
    method: 'GET',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/artifacts` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    // No such artifact: the allowed hear 404, the others 403 before anything is looked up.
    route: 'GET /runs/:id/artifacts/:artifactId',
    method: 'GET',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/artifacts/00000000-0000-4000-8000-000000000000` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /runs/:id/targets',
    method: 'GET',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/targets` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /runs/:id/inputs',
    method: 'GET',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/inputs` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/log-ticket',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/log-ticket` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/bulk',
    method: 'POST',
    request: async (environment) => ({ url: '/runs/bulk', payload: { action: 'cancel', filter: { environment, runbook: 'gated', status: 'running' }, dryRun: true } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/cancel',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/cancel` }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/rerun',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/rerun` }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/resume',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/resume` }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/steps/:step/approve',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/steps/gate/approve`, payload: {} }),
    who: { permission: 'approve', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/steps/:step/reject',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/steps/gate/reject`, payload: { reason: 'matrix' } }),
    who: { permission: 'approve', where: 'own' },
    bound: true,
  },
  { route: 'GET /environments', method: 'GET', request: async () => ({ url: '/environments' }), who: 'anyone', bound: false },
  { route: 'GET /runs/stats', method: 'GET', request: async () => ({ url: '/runs/stats' }), who: 'anyone', bound: false },
  { route: 'GET /reports/runs', method: 'GET', request: async (environment) => ({ url: `/reports/runs?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'GET /approvals', method: 'GET', request: async () => ({ url: '/approvals' }), who: 'anyone', bound: false },
  { route: 'POST /environments', method: 'POST', request: async () => ({ url: '/environments', payload: { name: `env-${(sequence += 1)}` } }), who: 'admin-anywhere', bound: false },
  { route: 'GET /users', method: 'GET', request: async () => ({ url: '/users' }), who: 'admin-anywhere', bound: false },
  {
    route: 'POST /users',
    method: 'POST',
    request: async () => ({ url: '/users', payload: { email: `u${(sequence += 1)}@example.org`, name: 'U', password: PASSWORD } }),
    who: 'admin-anywhere',
    bound: false,
  },
  {
    route: 'POST /users/:id/password',
    method: 'POST',
    request: async (environment) => ({ url: `/users/${await userIn(environment)}/password`, payload: { password: PASSWORD } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /users/:id/disable',
    method: 'POST',
    request: async (environment) => ({ url: `/users/${await userIn(environment)}/disable` }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /users/:id/enable',
    method: 'POST',
    request: async (environment) => ({ url: `/users/${await userIn(environment)}/enable` }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /users/:id/api-tokens',
    method: 'GET',
    request: async (environment) => ({ url: `/users/${await userIn(environment)}/api-tokens` }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'DELETE /users/:id/api-tokens/:tokenId',
    method: 'DELETE',
    request: async (environment) => {
      const userId = await userIn(environment);
      return { url: `/users/${userId}/api-tokens/${(await api.services.auth.createApiToken(userId, 'matrix')).id}` };
    },
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /users/:id/grants',
    method: 'POST',
    request: async (environment) => ({ url: `/users/${targetUserId}/grants`, payload: { environment, role: 'viewer' } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'DELETE /users/:id/grants/:grantId',
    method: 'DELETE',
    request: async (environment) => ({ url: `/users/${targetUserId}/grants/${await grantIn(environment)}` }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  { route: 'GET /connections', method: 'GET', request: async (environment) => ({ url: `/connections?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'POST /connections',
    method: 'POST',
    request: async (environment) => ({ url: '/connections', payload: { environment, name: `n${(sequence += 1)}`, type: 'http' } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'PATCH /connections/:id',
    method: 'PATCH',
    request: async (environment) => ({ url: `/connections/${await connectionIn(environment)}`, payload: { config: { a: 1 } } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'DELETE /connections/:id',
    method: 'DELETE',
    request: async (environment) => ({ url: `/connections/${await connectionIn(environment)}` }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /git/sync',
    method: 'POST',
    request: async (environment) => ({ url: '/git/sync', payload: { environment, connection: 'nowhere' } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /stacks/validate',
    method: 'POST',
    request: async () => ({ url: '/stacks/validate', payload: { name: 'matrix', stack: 'services:\n  web:\n    image: nginx:1.27\n' } }),
    who: 'anyone',
    bound: false,
  },
  { route: 'GET /stacks', method: 'GET', request: async (environment) => ({ url: `/stacks?environment=${environment}&endpoint=nowhere` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'GET /containers',
    method: 'GET',
    request: async (environment) => ({ url: `/containers?environment=${environment}&endpoint=nowhere` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /containers/:container/logs',
    method: 'GET',
    request: async (environment) => ({ url: `/containers/web/logs?environment=${environment}&endpoint=nowhere` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /containers/:container/log-ticket',
    method: 'POST',
    request: async (environment) => ({ url: '/containers/web/log-ticket', payload: { environment, endpoint: 'nowhere' } }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  ...(['restart', 'stop', 'start'] as const).map((verb): Case => ({
    route: `POST /containers/:container/${verb}`,
    method: 'POST',
    request: async (environment) => ({ url: `/containers/web/${verb}`, payload: { environment, endpoint: 'nowhere' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  })),
  { route: 'GET /nodes', method: 'GET', request: async (environment) => ({ url: `/nodes?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'GET /nodes/:id', method: 'GET', request: async (environment) => ({ url: `/nodes/${await nodeIn(environment)}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'POST /nodes/enroll',
    method: 'POST',
    request: async (environment) => ({ url: '/nodes/enroll', payload: { environment, name: `node-${(sequence += 1)}` } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /nodes',
    method: 'POST',
    // No such connection: the allowed hear 400 after the role check, the others 403.
    request: async (environment) => ({ url: '/nodes', payload: { environment, name: `node-${(sequence += 1)}`, address: '10.0.0.1', ssh: { connection: 'nowhere-ssh' } } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  { route: 'PATCH /nodes/:id', method: 'PATCH', request: async (environment) => ({ url: `/nodes/${await nodeIn(environment)}`, payload: { labels: { role: 'edge' } } }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'DELETE /nodes/:id', method: 'DELETE', request: async (environment) => ({ url: `/nodes/${await nodeIn(environment)}` }), who: { permission: 'administer', where: 'own' }, bound: true },
  {
    route: 'GET /network/topology',
    method: 'GET',
    request: async (environment) => ({ url: `/network/topology?environment=${environment}&format=dot` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /ai/diagnose',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/diagnose', payload: { environment, text: 'why is the disk full?' } }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /ai/chat',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/chat', payload: { environment, messages: [{ role: 'user', content: 'hello' }] } }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /ai/plans',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/plans', payload: { environment, goal: 'free some disk space' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /ai/plans/validate',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/plans/validate', payload: { environment, manifest: { name: 'p', title: 'P', steps: [{ id: 'a', action: 'core.noop' }] } } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  { route: 'GET /ai/plans/:id', method: 'GET', request: async (environment) => ({ url: `/ai/plans/${await planIn(environment)}` }), who: { permission: 'execute', where: 'own' }, bound: true },
  {
    route: 'POST /ai/plans/:id/submit',
    method: 'POST',
    request: async (environment) => ({ url: `/ai/plans/${await planIn(environment)}/submit` }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  { route: 'GET /ai/search', method: 'GET', request: async (environment) => ({ url: `/ai/search?q=disk&environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'POST /ai/notes',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/notes', payload: { environment, title: 'Matrix', body: 'a note' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /ai/feedback',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/feedback', payload: { environment, documentId: crypto.randomUUID(), vote: 'up' } }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  { route: 'GET /ai/incidents', method: 'GET', request: async (environment) => ({ url: `/ai/incidents?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'GET /ai/incidents/:id', method: 'GET', request: async (environment) => ({ url: `/ai/incidents/${crypto.randomUUID()}?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'POST /ai/incidents',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/incidents', payload: { environment, title: 'Matrix incident', symptoms: 'No space left on device' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'PUT /ai/incidents/:id',
    method: 'PUT',
    request: async (environment) => ({ url: `/ai/incidents/${crypto.randomUUID()}`, payload: { environment, title: 'Matrix incident' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /ai/incidents/import',
    method: 'POST',
    request: async (environment) => ({ url: '/ai/incidents/import', payload: { environment, format: 'csv', content: 'title,symptoms\nMatrix import,disk full' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  { route: 'GET /ai/status', method: 'GET', request: async (environment) => ({ url: `/ai/status?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'GET /ai/policies/:environment', method: 'GET', request: async (environment) => ({ url: `/ai/policies/${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  {
    route: 'PUT /ai/policies/:environment',
    method: 'PUT',
    request: async (environment) => ({ url: `/ai/policies/${environment}`, payload: { allowedActions: null, deniedActions: [], maxRisk: 'high' } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  { route: 'GET /admin/retention', method: 'GET', request: async () => ({ url: '/admin/retention' }), who: 'admin-anywhere', bound: false },
  { route: 'GET /admin/retention/purges', method: 'GET', request: async () => ({ url: '/admin/retention/purges' }), who: 'admin-anywhere', bound: false },
  { route: 'POST /admin/retention/purge', method: 'POST', request: async () => ({ url: '/admin/retention/purge', payload: { dryRun: true } }), who: 'admin-anywhere', bound: false },
  {
    route: 'GET /environments/:environment/retention',
    method: 'GET',
    request: async (environment) => ({ url: `/environments/${environment}/retention` }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'PUT /environments/:environment/retention',
    method: 'PUT',
    request: async (environment) => ({ url: `/environments/${environment}/retention`, payload: { logs: '20d' } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  {
    route: 'POST /runs/:id/hold',
    method: 'POST',
    request: async (environment) => ({ url: `/runs/${await startGatedRun(environment)}/hold`, payload: { reason: 'matrix' } }),
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'DELETE /runs/:id/hold',
    method: 'DELETE',
    request: async (environment) => {
      const id = await startGatedRun(environment);
      await api.services.retention.hold(id, environment, 'matrix', 'admin@example.org');
      return { url: `/runs/${id}/hold` };
    },
    who: { permission: 'execute', where: 'own' },
    bound: true,
  },
  {
    route: 'GET /environments/:environment/egress-allowlist',
    method: 'GET',
    request: async (environment) => ({ url: `/environments/${environment}/egress-allowlist` }),
    who: { permission: 'read', where: 'own' },
    bound: true,
  },
  {
    route: 'PUT /environments/:environment/egress-allowlist',
    method: 'PUT',
    request: async (environment) => ({ url: `/environments/${environment}/egress-allowlist`, payload: { entries: ['10.0.0.0/8', 'health.internal'] } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  { route: 'GET /triggers', method: 'GET', request: async (environment) => ({ url: `/triggers?environment=${environment}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'POST /triggers', method: 'POST', request: async (environment) => ({ url: '/triggers', payload: { environment, name: `t${(sequence += 1)}`, runbook: 'gated' } }), who: { permission: 'execute', where: 'own' }, bound: true },
  { route: 'GET /triggers/:id', method: 'GET', request: async (environment) => ({ url: `/triggers/${await triggerIn(environment)}` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'PATCH /triggers/:id', method: 'PATCH', request: async (environment) => ({ url: `/triggers/${await triggerIn(environment)}`, payload: { enabled: false } }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'DELETE /triggers/:id', method: 'DELETE', request: async (environment) => ({ url: `/triggers/${await triggerIn(environment)}` }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'POST /triggers/:id/rotate-secret', method: 'POST', request: async (environment) => ({ url: `/triggers/${await triggerIn(environment)}/rotate-secret` }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'GET /triggers/:id/deliveries', method: 'GET', request: async (environment) => ({ url: `/triggers/${await triggerIn(environment)}/deliveries` }), who: { permission: 'read', where: 'own' }, bound: true },
  { route: 'GET /notifications/rules', method: 'GET', request: async (environment) => ({ url: `/notifications/rules?environment=${environment}` }), who: { permission: 'administer', where: 'own' }, bound: true },
  {
    route: 'POST /notifications/rules',
    method: 'POST',
    request: async (environment) => ({ url: '/notifications/rules', payload: { environment, name: `r${(sequence += 1)}`, events: ['run.failed'], connectionId: await channelIn(environment) } }),
    who: { permission: 'administer', where: 'own' },
    bound: true,
  },
  { route: 'PATCH /notifications/rules/:id', method: 'PATCH', request: async (environment) => ({ url: `/notifications/rules/${await ruleIn(environment)}`, payload: { enabled: false } }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'DELETE /notifications/rules/:id', method: 'DELETE', request: async (environment) => ({ url: `/notifications/rules/${await ruleIn(environment)}` }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'POST /notifications/rules/:id/test', method: 'POST', request: async (environment) => ({ url: `/notifications/rules/${await ruleIn(environment)}/test` }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'GET /notifications/deliveries', method: 'GET', request: async (environment) => ({ url: `/notifications/deliveries?rule=${await ruleIn(environment)}` }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'GET /notifications/subscriptions', method: 'GET', request: async () => ({ url: '/notifications/subscriptions' }), who: 'anyone', bound: false },
  { route: 'POST /notifications/subscriptions', method: 'POST', request: async (environment) => ({ url: '/notifications/subscriptions', payload: { environment, events: ['run.failed'] } }), who: { permission: 'read', where: 'own' }, bound: true },
  // Another user's subscription (or none) is "not found" for everyone: each user removes only their own.
  { route: 'DELETE /notifications/subscriptions/:id', method: 'DELETE', request: async () => ({ url: `/notifications/subscriptions/${crypto.randomUUID()}` }), who: 'anyone', bound: false },
  { route: 'GET /notifications/defaults', method: 'GET', request: async () => ({ url: '/notifications/defaults' }), who: 'anyone', bound: false },
  { route: 'PUT /notifications/defaults/:environment', method: 'PUT', request: async (environment) => ({ url: `/notifications/defaults/${environment}`, payload: { connectionId: null } }), who: { permission: 'administer', where: 'own' }, bound: true },
  { route: 'GET /notifications/locale', method: 'GET', request: async () => ({ url: '/notifications/locale' }), who: 'anyone', bound: false },
  { route: 'PUT /notifications/locale', method: 'PUT', request: async () => ({ url: '/notifications/locale', payload: { locale: 'en' } }), who: 'anyone', bound: false },
  { route: 'GET /audit', method: 'GET', request: async () => ({ url: '/audit' }), who: 'admin-anywhere', bound: false },
  { route: 'GET /audit.csv', method: 'GET', request: async () => ({ url: '/audit.csv' }), who: 'admin-anywhere', bound: false },
  { route: 'POST /codec/decode', method: 'POST', request: async () => ({ url: '/codec/decode', payload: { payloads: [] } }), who: 'admin-anywhere', bound: false },
  { route: 'POST /codec/encode', method: 'POST', request: async () => ({ url: '/codec/encode', payload: { payloads: [] } }), who: 'admin-anywhere', bound: false },
  // The cooperative is the installation's: every user is a member; treasurers are granted by admins.
  { route: 'GET /cooperative/me', method: 'GET', request: async () => ({ url: '/cooperative/me' }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/accounts', method: 'GET', request: async () => ({ url: '/cooperative/accounts' }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/accounts/:reference', method: 'GET', request: async () => ({ url: '/cooperative/accounts/member:target@example.org' }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/accounts/:reference/statement', method: 'GET', request: async () => ({ url: '/cooperative/accounts/member:target@example.org/statement' }), who: 'anyone', bound: false },
  // From the caller's own (empty) account: allowed, and refused for lack of credits.
  { route: 'POST /cooperative/transfers', method: 'POST', request: async (_environment, role) => ({ url: '/cooperative/transfers', payload: { from: `member:${role}@example.org`, to: 'member:target@example.org', amount: 1 } }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/treasurers', method: 'GET', request: async () => ({ url: '/cooperative/treasurers' }), who: 'anyone', bound: false },
  { route: 'POST /cooperative/treasurers', method: 'POST', request: async () => ({ url: '/cooperative/treasurers', payload: { email: 'target@example.org' } }), who: 'admin-anywhere', bound: false },
  { route: 'DELETE /cooperative/treasurers/:email', method: 'DELETE', request: async () => ({ url: '/cooperative/treasurers/target@example.org' }), who: 'admin-anywhere', bound: false },
  { route: 'GET /cooperative/settings', method: 'GET', request: async () => ({ url: '/cooperative/settings' }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/accounts/:reference/earnings', method: 'GET', request: async () => ({ url: `/cooperative/accounts/node:${OWN}%2F${(await api.services.nodes.get(await nodeIn(OWN)))!.name}/earnings` }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/accounts/:reference/reputation', method: 'GET', request: async () => ({ url: '/cooperative/accounts/member:target@example.org/reputation' }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/proposals', method: 'GET', request: async () => ({ url: '/cooperative/proposals?status=voting' }), who: 'anyone', bound: false },
  { route: 'GET /cooperative/proposals/:id', method: 'GET', request: async () => ({ url: `/cooperative/proposals/${crypto.randomUUID()}` }), who: 'anyone', bound: false },
  { route: 'POST /cooperative/proposals', method: 'POST', request: async () => ({ url: '/cooperative/proposals', payload: { title: 'matrix', text: '', votingSeconds: 3600 } }), who: 'anyone', bound: false },
  { route: 'POST /cooperative/proposals/:id/votes', method: 'POST', request: async () => ({ url: `/cooperative/proposals/${crypto.randomUUID()}/votes`, payload: { vote: 'yes' } }), who: 'anyone', bound: false },
];

function expectedAllowed(who: Who, role: Role, environment: string): boolean {
  if (who === 'anyone') return true;
  if (who === 'admin-anywhere') return role === 'admin';
  if (who === 'execute-anywhere') return ALLOWED.execute!.includes(role);
  return environment === OWN && ALLOWED[who.permission]!.includes(role);
}

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ gated }), [
    ...ROLES.map((role) => ({ email: `${role}@example.org`, password: PASSWORD, grants: [[OWN, role]] as Array<[string, Role]> })),
    {
      email: 'starter@example.org',
      password: PASSWORD,
      grants: [
        [OWN, 'operator'],
        [OTHER, 'operator'],
      ] as Array<[string, Role]>,
    },
    { email: 'target@example.org', password: PASSWORD, grants: [] },
  ]);
  targetUserId = (await api.prisma.user.findUniqueOrThrow({ where: { email: 'target@example.org' } })).id;
  starterId = (await api.prisma.user.findUniqueOrThrow({ where: { email: 'starter@example.org' } })).id;
  for (const role of ROLES) tokens[role] = await api.logIn(`${role}@example.org`, PASSWORD);
}, 120_000);

afterAll(async () => {
  for (const schedule of (await api?.prisma.schedule.findMany()) ?? []) await api.services.schedules.delete(schedule.id);
  await planPool?.end();
  await api?.stop();
});

describe('the RBAC matrix', () => {
  it('covers every protected route', () => {
    const protectedRoutes = api.app.routeList.filter((route) => !route.public).map((route) => `${route.method} ${route.url}`);
    expect(cases.map((entry) => entry.route).sort()).toEqual([...new Set(protectedRoutes)].sort());
  });

  it('allows exactly what each role may do, in its own environment and not in another', async () => {
    const mismatches: string[] = [];
    for (const entry of cases) {
      for (const environment of entry.bound ? [OWN, OTHER] : [OWN]) {
        for (const role of ROLES) {
          const { url, payload } = await entry.request(environment, role);
          const response = await api.app.inject({ method: entry.method, url, headers: { authorization: `Bearer ${tokens[role]}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
          const allowed = response.statusCode !== 403 && response.statusCode !== 401;
          const expected = expectedAllowed(entry.who, role, environment);
          // An allowed call must also work: a 500 behind an allow hides a broken route.
          if (allowed !== expected || (expected && response.statusCode >= 500)) {
            mismatches.push(`${entry.route} as ${role} in ${environment}: ${response.statusCode} ${response.body.slice(0, 100)}`);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 240_000);
});
