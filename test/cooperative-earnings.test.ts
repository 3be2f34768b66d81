// Nodes earn credits from verified contribution: the health checks they
// answered (recorded by the inventory) and the steps their agent ran (read
// from the runs' Temporal histories), at the rates governance set; the
// earnings job pays a period once, however often it runs.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsFor, type Earning } from '../cooperative/earnings.js';
import type { NodeHealth } from '../infra/node-health.js';
import { COOPERATIVE_EARNINGS_WORKFLOW } from '../workflows/cooperative-earnings.js';
import { startApiForTests } from './api-harness.js';
import { startSimulatedAgents, type SimulatedAgents } from './fleet-agents.js';
import { writeManifests } from './harness.js';
import { waitFor } from './wait.js';

const NODE = `earner-${randomBytes(3).toString('hex')}`;
const onNode = `
name: on-node
title: A step on the earning node
environments: [dev]
steps:
  - id: health
    action: node.health
    node: ${NODE}
    pickupTimeout: 20s
`;

const HEALTH: NodeHealth = { load: [0.1, 0.1, 0.1], cpus: 2, memoryFreeBytes: 1, memoryTotalBytes: 2, disks: [], uptimeSeconds: 60, collectedAt: new Date().toISOString() };

let api: Awaited<ReturnType<typeof startApiForTests>>;
let agents: SimulatedAgents;
let nodeId: string;

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ 'on-node': onNode }), [{ email: 'ops@example.org', password: 'correct horse battery staple', grants: [['dev', 'operator']] }]);
  const { node, token } = await api.services.nodes.createEnrollment({ environment: 'dev', name: NODE, labels: {} }, 60_000);
  await api.services.nodes.enroll(token);
  nodeId = node.id;
  agents = await startSimulatedAgents([NODE], 'dev', api.databaseUrl);
}, 120_000);

afterAll(async () => {
  await agents?.stop();
  await api?.stop();
});

describe('cooperative earnings', () => {
  it('pays a node for the checks it answered and the steps it ran at the rates set, once per period however often the period is computed', async () => {
    // A credit per millisecond answered, so a period of a few seconds earns something; five credits a step.
    const { rates } = await api.services.cooperative.parts.settings.change('rates', { uptimeCreditsPerHour: 3_600_000, creditsPerStep: 5 }, 'test');
    const start = new Date();
    // Three checks answered and one missed, as the health schedule records them.
    for (let check = 0; check < 3; check += 1) await api.services.nodes.recordHealth(nodeId, HEALTH);
    await api.services.nodes.markUnreachable(nodeId, 'no answer');
    for (let run = 0; run < 2; run += 1) {
      const { id } = await api.services.runs.startRun({ runbook: 'on-node', inputs: {}, environment: 'dev', startedBy: 'ops@example.org' });
      await api.temporal.workflow.getHandle(id).result();
    }
    const periodMs = Date.now() - start.getTime() + 500;
    const end = start.getTime() + periodMs;
    await waitFor(() => Date.now() > end, { message: 'the period to end' });

    const compute = async (attempt: number) =>
      (await api.temporal.workflow.execute(COOPERATIVE_EARNINGS_WORKFLOW, {
        workflowId: `earnings-test-${NODE}-${attempt}`,
        taskQueue: api.taskQueue,
        args: [{ periodMs, periodStart: start.toISOString() }],
      })) as Earning[];
    const first = (await compute(1)).find((earning) => earning.nodeId === nodeId)!;
    const expected = creditsFor({ start, end: new Date(end) }, { ok: 3, failed: 1 }, { done: 2 }, rates);
    expect(first).toMatchObject({ checksOk: 3, checksFailed: 1, stepsDone: 2, stepsFailed: 0, credits: expected, replayed: false });
    expect(expected).toBeGreaterThan(10);

    const second = (await compute(2)).find((earning) => earning.nodeId === nodeId)!;
    expect(second).toMatchObject({ credits: expected, transferId: first.transferId, replayed: true });

    const account = await api.services.cooperative.resolve(`node:dev/${NODE}`);
    expect(account.balance).toBe(expected);
    const statement = await api.services.cooperative.statement(`node:dev/${NODE}`, {});
    expect(statement.lines.map((line) => [line.kind, line.counterparty, line.amount])).toEqual([['earning', 'issuance', expected]]);
    const { earnings } = await api.services.cooperative.earningsOf(`node:dev/${NODE}`, 10);
    expect(earnings).toHaveLength(1);
  });
});
