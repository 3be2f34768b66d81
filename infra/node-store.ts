// The node inventory: machines registered by provisioning (over SSH) or
// enrolled by their agent. Used by the API, by the node.register action and
// by the health schedule's activities, so it speaks SQL through a pg pool
// that workers and the API both have.
import type pg from 'pg';
import { randomUUID } from 'node:crypto';
import { JarvisProblem } from '../manifest/errors.js';
import { hashOpaqueToken, newOpaqueToken } from '../security/tokens.js';
import type { NodeHealth } from './node-health.js';
import { nodeTaskQueue } from '../manifest/node-names.js';
import type { HardwareProfile } from './node-profile.js';
import { buildTopology, type Topology } from './topology.js';

export const NODE_STATUSES = ['pending', 'online', 'unreachable'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];
export type NodeSource = 'agent' | 'ssh';

export interface NodeView {
  id: string;
  name: string;
  environment: string;
  address: string;
  labels: Record<string, string>;
  status: NodeStatus;
  source: NodeSource;
  lastSeenAt: string | null;
  lastHealth: NodeHealth | null;
  profile: HardwareProfile | null;
  /** The agent's task queue; null until an agent enrolled. */
  taskQueue: string | null;
  /** How a node without an agent is reached: an `ssh` connection of its environment and the login (empty: the connection's). */
  ssh: { connection: string; user: string } | null;
  /** Whether an enrollment token is waiting to be used (the token itself is never kept). */
  enrollmentPending: boolean;
  enrollmentExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A node whose agent the health schedule checks. */
export interface AgentNode {
  id: string;
  name: string;
  environment: string;
  taskQueue: string;
  hasProfile: boolean;
  /** When the kept profile was collected, to refresh it now and then. */
  profileCollectedAt: string | null;
}

interface NodeRow {
  id: string;
  name: string;
  environment: string;
  address: string;
  labels: Record<string, string>;
  status: NodeStatus;
  source: NodeSource;
  last_seen_at: Date | null;
  last_health: NodeHealth | null;
  profile: HardwareProfile | null;
  task_queue: string | null;
  ssh_connection: string | null;
  ssh_user: string;
  enrollment_token_hash: string | null;
  enrollment_expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT n.id, n.name, e.name AS environment, n.address, n.labels, n.status, n.source, n.last_seen_at, n.last_health, n.profile,
  n.task_queue, n.ssh_connection, n.ssh_user, n.enrollment_token_hash, n.enrollment_expires_at, n.created_at, n.updated_at
  FROM nodes n JOIN environments e ON e.id = n.environment_id`;

function view(row: NodeRow): NodeView {
  return {
    id: row.id,
    name: row.name,
    environment: row.environment,
    address: row.address,
    labels: row.labels ?? {},
    status: row.status,
    source: row.source,
    lastSeenAt: row.last_seen_at?.toISOString() ?? null,
    lastHealth: row.last_health,
    profile: row.profile,
    taskQueue: row.task_queue,
    ssh: row.ssh_connection ? { connection: row.ssh_connection, user: row.ssh_user } : null,
    enrollmentPending: row.enrollment_token_hash !== null,
    enrollmentExpiresAt: row.enrollment_expires_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The first IPv4 address of a profile's interfaces, as the node's address when none is given. */
function firstAddress(profile: HardwareProfile | null | undefined): string {
  for (const entry of profile?.interfaces ?? []) {
    const address = entry.addresses.find((candidate) => /^\d+\.\d+\.\d+\.\d+\//.test(candidate));
    if (address) return address.split('/')[0]!;
  }
  return '';
}

// The node's state before the statement changes it (every part of one statement sees the same snapshot).
const PREVIOUS_STATE = `SELECT n.id, n.name, n.status, n.updated_at, e.name AS environment FROM nodes n JOIN environments e ON e.id = n.environment_id WHERE n.id = $1`;

/** The notification of a status change, keyed by the state it leaves: two checks seeing the same change report it once. */
function nodeEventInsert(kind: 'node.back' | 'node.unreachable', from: string, reason: string): string {
  return `INSERT INTO notification_events (id, kind, environment, payload, dedup_key)
    SELECT gen_random_uuid(), '${kind}', p.environment,
      jsonb_build_object('node', jsonb_strip_nulls(jsonb_build_object('id', p.id, 'name', p.name, 'reason', ${reason}))),
      'node:' || p.id || ':${kind}:' || (extract(epoch FROM p.updated_at) * 1000)::bigint
    FROM previous p JOIN updated u ON u.id = p.id WHERE p.status = '${from}'
    ON CONFLICT (dedup_key) DO NOTHING`;
}

export class NodeStore {
  constructor(private readonly pool: pg.Pool) {}

  private async environmentId(environment: string): Promise<string> {
    const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM environments WHERE name = $1', [environment]);
    if (!rows[0]) throw new JarvisProblem(`no environment ${environment}`, 'not-found');
    return rows[0].id;
  }

  private async one(where: string, values: unknown[]): Promise<NodeView | undefined> {
    const { rows } = await this.pool.query<NodeRow>(`${SELECT} WHERE ${where}`, values);
    return rows[0] ? view(rows[0]) : undefined;
  }

  /** Registers (or refreshes) a node that provisioning reached over SSH: it is online, with the profile just collected. */
  async upsertFromProvisioning(input: {
    name: string;
    environment: string;
    address: string;
    labels: Record<string, string>;
    profile: HardwareProfile;
    /** The `ssh` connection provisioning reached it with, and the login that worked: how fleet steps reach it until an agent enrolls. */
    ssh?: { connection: string; user: string };
  }): Promise<{ id: string; name: string; created: boolean }> {
    const environmentId = await this.environmentId(input.environment);
    // xmax = 0 only for a row this statement inserted.
    const { rows } = await this.pool.query<{ id: string; created: boolean }>(
      `INSERT INTO nodes (id, name, environment_id, address, labels, status, last_seen_at, profile, source, ssh_connection, ssh_user)
       VALUES ($1, $2, $3, $4, $5, 'online', now(), $6, 'ssh', $7, $8)
       ON CONFLICT (environment_id, name) DO UPDATE SET address = EXCLUDED.address, labels = nodes.labels || EXCLUDED.labels,
         status = 'online', last_seen_at = now(), profile = EXCLUDED.profile, updated_at = now(),
         ssh_connection = COALESCE(EXCLUDED.ssh_connection, nodes.ssh_connection),
         ssh_user = CASE WHEN EXCLUDED.ssh_connection IS NULL THEN nodes.ssh_user ELSE EXCLUDED.ssh_user END
       RETURNING id, (xmax = 0) AS created`,
      [randomUUID(), input.name, environmentId, input.address, JSON.stringify(input.labels), JSON.stringify(input.profile), input.ssh?.connection ?? null, input.ssh?.user ?? ''],
    );
    return { id: rows[0]!.id, name: input.name, created: rows[0]!.created };
  }

  /** Adds a machine reached over SSH (no agent): it is pending until a fleet step or a health check reaches it. */
  async addSshNode(input: { name: string; environment: string; address: string; labels: Record<string, string>; ssh: { connection: string; user: string } }): Promise<NodeView> {
    const environmentId = await this.environmentId(input.environment);
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO nodes (id, name, environment_id, address, labels, status, source, ssh_connection, ssh_user)
       VALUES ($1, $2, $3, $4, $5, 'pending', 'ssh', $6, $7)
       ON CONFLICT (environment_id, name) DO NOTHING RETURNING id`,
      [randomUUID(), input.name, environmentId, input.address, JSON.stringify(input.labels), input.ssh.connection, input.ssh.user],
    );
    if (!rows[0]) throw new JarvisProblem(`there is already a node ${input.name} in ${input.environment}`, 'conflict');
    return (await this.get(rows[0].id))!;
  }

  /** Changes how a node is reached over SSH (null: not over SSH) and its labels (merged; an empty value removes a label). */
  async updateNode(id: string, change: { ssh?: { connection: string; user: string } | null; address?: string; labels?: Record<string, string> }): Promise<NodeView> {
    const removed = Object.entries(change.labels ?? {}).filter(([, value]) => value === '').map(([key]) => key);
    const added = Object.fromEntries(Object.entries(change.labels ?? {}).filter(([, value]) => value !== ''));
    await this.pool.query(
      `UPDATE nodes SET labels = (labels || $2::jsonb) - $3::text[],
         ssh_connection = CASE WHEN $4 THEN $5 ELSE ssh_connection END, ssh_user = CASE WHEN $4 THEN $6 ELSE ssh_user END,
         address = COALESCE($7, address), updated_at = now()
       WHERE id = $1`,
      [id, JSON.stringify(added), removed, change.ssh !== undefined, change.ssh?.connection ?? null, change.ssh?.user ?? '', change.address ?? null],
    );
    return this.require(id);
  }

  /**
   * How each named node of an environment is reached by a fleet step: its
   * agent's task queue when an agent enrolled, else its SSH connection and
   * address; absent names are not in the inventory (any more).
   */
  async fleetRoutes(environment: string, names: string[]): Promise<Map<string, { taskQueue: string | null; address: string; ssh: { connection: string; user: string } | null }>> {
    const { rows } = await this.pool.query<{ name: string; task_queue: string | null; address: string; ssh_connection: string | null; ssh_user: string }>(
      `SELECT n.name, n.task_queue, n.address, n.ssh_connection, n.ssh_user FROM nodes n JOIN environments e ON e.id = n.environment_id
       WHERE e.name = $1 AND n.name = ANY($2)`,
      [environment, names],
    );
    return new Map(rows.map((row) => [row.name, { taskQueue: row.task_queue, address: row.address, ssh: row.ssh_connection ? { connection: row.ssh_connection, user: row.ssh_user } : null }]));
  }

  /**
   * A one-time enrollment token for a node's agent: a pending node is made (or
   * an existing node without an agent gets a fresh token, the old one voided).
   * Only the token's hash is kept.
   */
  async createEnrollment(input: { name: string; environment: string; labels: Record<string, string>; address?: string }, ttlMs: number): Promise<{ node: NodeView; token: string; expiresAt: Date }> {
    const environmentId = await this.environmentId(input.environment);
    const { token, hash } = newOpaqueToken('jen');
    const expiresAt = new Date(Date.now() + ttlMs);
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO nodes (id, name, environment_id, address, labels, status, source, enrollment_token_hash, enrollment_expires_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', 'agent', $6, $7)
       ON CONFLICT (environment_id, name) DO UPDATE SET labels = nodes.labels || EXCLUDED.labels,
         address = CASE WHEN EXCLUDED.address = '' THEN nodes.address ELSE EXCLUDED.address END,
         enrollment_token_hash = EXCLUDED.enrollment_token_hash, enrollment_expires_at = EXCLUDED.enrollment_expires_at, updated_at = now()
       WHERE nodes.agent_credential_hash IS NULL
       RETURNING id`,
      [randomUUID(), input.name, environmentId, input.address ?? '', JSON.stringify(input.labels), hash, expiresAt],
    );
    if (!rows[0]) throw new JarvisProblem(`node ${input.name} in ${input.environment} already has an agent: delete the node first to enroll it again`, 'conflict');
    return { node: (await this.get(rows[0].id))!, token, expiresAt };
  }

  /** Uses an enrollment token (once, before it expires): the node gets its task queue and a long-lived agent credential. */
  async enroll(token: string): Promise<{ node: NodeView; credential: string } | undefined> {
    const credential = newOpaqueToken('jag');
    const { rows } = await this.pool.query<{ id: string; name: string; environment: string }>(
      `UPDATE nodes n SET enrollment_token_hash = NULL, enrollment_expires_at = NULL, agent_credential_hash = $2, source = 'agent', updated_at = now(),
         task_queue = 'jarvis-node-' || e.name || '-' || n.name
       FROM environments e WHERE e.id = n.environment_id AND n.enrollment_token_hash = $1 AND n.enrollment_expires_at > now()
       RETURNING n.id, n.name, e.name AS environment`,
      [hashOpaqueToken(token), credential.hash],
    );
    const row = rows[0];
    if (!row) return undefined;
    const node = (await this.get(row.id))!;
    if (node.taskQueue !== nodeTaskQueue(row.environment, row.name)) throw new Error('task queue naming drifted from nodeTaskQueue');
    return { node, credential: credential.token };
  }

  /** The node an agent credential belongs to. */
  async authenticateAgent(credential: string): Promise<NodeView | undefined> {
    return this.one('n.agent_credential_hash = $1', [hashOpaqueToken(credential)]);
  }

  /** A node that was unreachable and answers again reports `node.back`, in the same statement. */
  async recordHealth(id: string, health: NodeHealth, profile?: HardwareProfile): Promise<void> {
    await this.pool.query(
      `WITH previous AS (${PREVIOUS_STATE}),
       updated AS (
         UPDATE nodes SET status = 'online', last_seen_at = now(), last_health = $2, profile = COALESCE($3, profile),
           address = CASE WHEN address = '' THEN $4 ELSE address END, updated_at = now() WHERE id = $1 RETURNING id)
       ${nodeEventInsert('node.back', 'unreachable', 'NULL::text')}`,
      [id, JSON.stringify(health), profile ? JSON.stringify(profile) : null, firstAddress(profile)],
    );
  }

  /** A node that was online and stops answering reports `node.unreachable`, in the same statement. */
  async markUnreachable(id: string, reason?: string): Promise<void> {
    await this.pool.query(
      `WITH previous AS (${PREVIOUS_STATE}),
       updated AS (UPDATE nodes SET status = 'unreachable', updated_at = now() WHERE id = $1 RETURNING id)
       ${nodeEventInsert('node.unreachable', 'online', '$2::text')}`,
      [id, reason ?? null],
    );
  }

  async list(environments: string[]): Promise<NodeView[]> {
    const { rows } = await this.pool.query<NodeRow>(`${SELECT} WHERE e.name = ANY($1) ORDER BY e.name, n.name`, [environments]);
    return rows.map(view);
  }

  /** Names of the nodes of an environment a fleet selector picks, sorted: batches follow this order. */
  async selectNames(environment: string, selector: { labels?: Record<string, string>; names?: string[]; status?: string }): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT n.name FROM nodes n JOIN environments e ON e.id = n.environment_id
       WHERE e.name = $1 AND n.labels @> $2::jsonb AND ($3::text[] IS NULL OR n.name = ANY($3)) AND ($4::text IS NULL OR n.status = $4)
       ORDER BY n.name`,
      [environment, JSON.stringify(selector.labels ?? {}), selector.names ?? null, selector.status ?? null],
    );
    return rows.map((row) => row.name);
  }

  async get(id: string): Promise<NodeView | undefined> {
    return this.one('n.id = $1', [id]);
  }

  async require(id: string): Promise<NodeView> {
    const node = await this.get(id);
    if (!node) throw new JarvisProblem(`no node ${id}`, 'not-found');
    return node;
  }

  /**
   * Removes a node. When its agent had enrolled, it held its environment's
   * payload key: the environment moves on to the key's next generation, which
   * the other agents fetch with their credentials and this one no longer can.
   */
  async remove(id: string): Promise<{ rotatedKeyOf?: string }> {
    const { rows } = await this.pool.query<{ environment: string }>(
      `WITH gone AS (DELETE FROM nodes WHERE id = $1 RETURNING environment_id, agent_credential_hash IS NOT NULL AS held_key)
       UPDATE environments e SET payload_key_generation = e.payload_key_generation + 1
       FROM gone WHERE e.id = gone.environment_id AND gone.held_key
       RETURNING e.name AS environment`,
      [id],
    );
    return rows[0] ? { rotatedKeyOf: rows[0].environment } : {};
  }

  /** Nodes with an enrolled agent, for the health schedule. */
  async listAgentNodes(): Promise<AgentNode[]> {
    const { rows } = await this.pool.query<{ id: string; name: string; environment: string; task_queue: string; profile_collected_at: string | null; has_profile: boolean }>(
      `SELECT n.id, n.name, e.name AS environment, n.task_queue, n.profile IS NOT NULL AS has_profile, n.profile->>'collectedAt' AS profile_collected_at
       FROM nodes n JOIN environments e ON e.id = n.environment_id
       WHERE n.agent_credential_hash IS NOT NULL AND n.task_queue IS NOT NULL ORDER BY e.name, n.name`,
    );
    return rows.map((row) => ({ id: row.id, name: row.name, environment: row.environment, taskQueue: row.task_queue, hasProfile: row.has_profile, profileCollectedAt: row.profile_collected_at }));
  }

  async topology(environment: string): Promise<Topology> {
    return buildTopology(environment, await this.list([environment]));
  }
}
