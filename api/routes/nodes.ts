// Nodes and their agents: the inventory per environment, enrollment (an admin
// makes a one-time token; the agent trades it at POST /agents/enroll, which
// is authenticated by that token alone), and the network topology as JSON or
// Graphviz DOT.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { NODE_NAME_PATTERN, nodeTaskQueue } from '../../manifest/node-names.js';
import type { NodeStore, NodeView } from '../../infra/node-store.js';
import type { ConnectionService } from '../services/connection-service.js';
import { topologyToDot } from '../../infra/topology.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { requirePermission } from '../guards.js';
import { auditTarget } from '../plugins/audit.js';
import { bearerToken, principalOf } from '../plugins/auth.js';
import { sendProblem } from '../plugins/errors.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses } from '../schemas.js';

/** What agents are told, besides their own node: where Temporal is and the payload codec key. */
export interface AgentSettings {
  temporalAddress: string;
  namespace: string;
  /** The current workflow-payload key of an environment, derived from the secret key (never the secret key, another environment's, or the credentials key). */
  codecKey(environment: string): Promise<{ key: Buffer; generation: number }>;
  enrollmentTtlMs: number;
  /** Enrollment attempts per minute per client address. */
  enrollmentsPerMinute?: number;
}

const Environment = Type.String({ minLength: 1, maxLength: 63 });
const Labels = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 500 }), { maxProperties: 50 });
const Node = Type.Object({
  id: Type.String(),
  name: Type.String(),
  environment: Type.String(),
  address: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  status: Type.Union([Type.Literal('pending'), Type.Literal('online'), Type.Literal('unreachable')]),
  source: Type.Union([Type.Literal('agent'), Type.Literal('ssh')]),
  lastSeenAt: Type.Union([Type.String(), Type.Null()]),
  lastHealth: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  profile: Type.Union([Type.Object({}, { additionalProperties: true, description: 'A HardwareProfile' }), Type.Null()]),
  taskQueue: Type.Union([Type.String(), Type.Null()]),
  ssh: Type.Union([Type.Object({ connection: Type.String(), user: Type.String() }), Type.Null()]),
  enrollmentPending: Type.Boolean(),
  enrollmentExpiresAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const SshAccess = Type.Object(
  {
    connection: Type.String({ minLength: 1, maxLength: 100, description: 'An `ssh` connection of the node’s environment (its secret the private key)' }),
    user: Type.Optional(Type.String({ maxLength: 32, pattern: '^([a-z_][a-z0-9_-]*)?$', description: 'The login; empty or absent: the connection’s' })),
  },
  { additionalProperties: false },
);
const Address = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:-]+$', description: 'IP address or host name' });
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Enrollment = Type.Object({
  node: Type.Object({ id: Type.String(), name: Type.String(), environment: Type.String() }),
  temporal: Type.Object({ address: Type.String(), namespace: Type.String() }),
  taskQueue: Type.String(),
  codecKey: Type.String({ description: "base64 of the node's environment's current workflow-payload key" }),
  codecKeyGeneration: Type.Integer({ minimum: 0, description: 'its generation: it moves on when a node that held the key is removed' }),
  credential: Type.Optional(Type.String({ description: 'Only for an enrollment token: the agent credential to use from now on' })),
});
const Topology = Type.Object({
  environment: Type.String(),
  nodes: Type.Array(Type.Object({}, { additionalProperties: true })),
  clusters: Type.Array(Type.Object({ id: Type.String(), managers: Type.Array(Type.String()), workers: Type.Array(Type.String()) })),
  links: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), kind: Type.String(), subnet: Type.Optional(Type.String()) })),
});

/** The command a node runs to start its agent with a fresh token. */
export function agentCommand(apiUrl: string, token: string): string {
  return `npx jarvis agent --api ${apiUrl} --token ${token}`;
}

export const nodeRoutes: FastifyPluginAsyncTypebox<{ nodes: NodeStore; agents: AgentSettings; connections: ConnectionService }> = async (app, { nodes, agents, connections }) => {
  /** A node's SSH access names an `ssh` connection of its own environment, never another environment's. */
  const checkSshAccess = async (environment: string, access: { connection: string; user?: string }): Promise<{ connection: string; user: string }> => {
    const found = (await connections.list([environment])).find((connection) => connection.name === access.connection);
    if (!found) throw new JarvisProblem(`no connection "${access.connection}" in ${environment}: create an ssh connection holding the key first`, 'invalid');
    if (found.type !== 'ssh') throw new JarvisProblem(`connection "${access.connection}" is a ${found.type} connection, not ssh`, 'invalid');
    return { connection: access.connection, user: access.user ?? '' };
  };

  const nodeIn = async (id: string, permission: 'read' | 'administer', request: Parameters<typeof requirePermission>[0]): Promise<NodeView> => {
    const node = await nodes.require(id);
    requirePermission(request, permission, node.environment);
    return node;
  };

  app.get(
    '/nodes',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Nodes in the environments the caller may read, with profile, labels, status and last health',
        querystring: Type.Object({ environment: Type.Optional(Environment) }),
        response: { 200: Type.Array(Node), ...problemResponses },
      },
    },
    async (request) => {
      const readable = environmentsWhere(principalOf(request), 'read');
      if (request.query.environment && !readable.includes(request.query.environment)) throw new JarvisProblem(`you hold no role in ${request.query.environment}`, 'forbidden');
      return nodes.list(request.query.environment ? [request.query.environment] : readable);
    },
  );

  app.get(
    '/nodes/:id',
    { schema: { tags: ['nodes'], summary: 'One node', params: IdParams, response: { 200: Node, ...problemResponses } } },
    async (request) => nodeIn(request.params.id, 'read', request),
  );

  app.post(
    '/nodes/enroll',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Make a pending node and a one-time enrollment token for its agent (admin in the environment); the token is shown only here',
        body: Type.Object(
          {
            environment: Environment,
            name: Type.String({ minLength: 1, maxLength: 63, pattern: NODE_NAME_PATTERN }),
            labels: Type.Optional(Labels),
            address: Type.Optional(Type.String({ maxLength: 255 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ node: Node, token: Type.String(), expiresAt: Type.String(), taskQueue: Type.String(), command: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, name } = request.body;
      auditTarget(request, 'node', undefined, { environment, name });
      requirePermission(request, 'administer', environment);
      const enrollment = await nodes.createEnrollment({ environment, name, labels: request.body.labels ?? {}, ...(request.body.address ? { address: request.body.address } : {}) }, agents.enrollmentTtlMs);
      auditTarget(request, 'node', enrollment.node.id, { environment, name, expiresAt: enrollment.expiresAt.toISOString() });
      const apiUrl = `${request.protocol}://${request.host}`;
      return reply.code(201).send({
        node: enrollment.node,
        token: enrollment.token,
        expiresAt: enrollment.expiresAt.toISOString(),
        taskQueue: nodeTaskQueue(environment, name),
        command: agentCommand(apiUrl, enrollment.token),
      });
    },
  );

  app.post(
    '/nodes',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Add a machine without an agent, reached over SSH through a connection of its environment (admin in the environment); fleet steps run on it over SSH',
        body: Type.Object(
          { environment: Environment, name: Type.String({ minLength: 1, maxLength: 63, pattern: NODE_NAME_PATTERN }), address: Address, labels: Type.Optional(Labels), ssh: SshAccess },
          { additionalProperties: false },
        ),
        response: { 201: Node, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { environment, name } = request.body;
      auditTarget(request, 'node', undefined, { environment, name, via: 'ssh' });
      requirePermission(request, 'administer', environment);
      const ssh = await checkSshAccess(environment, request.body.ssh);
      const node = await nodes.addSshNode({ environment, name, address: request.body.address, labels: request.body.labels ?? {}, ssh });
      auditTarget(request, 'node', node.id, { environment, name, address: node.address, connection: ssh.connection });
      return reply.code(201).send(node);
    },
  );

  app.patch(
    '/nodes/:id',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Change a node’s labels (an empty value removes one), address, or SSH access (null: not reached over SSH) (admin in its environment)',
        params: IdParams,
        body: Type.Object({ labels: Type.Optional(Labels), address: Type.Optional(Address), ssh: Type.Optional(Type.Union([SshAccess, Type.Null()])) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: Node, ...problemResponses },
      },
    },
    async (request) => {
      auditTarget(request, 'node', request.params.id);
      const node = await nodeIn(request.params.id, 'administer', request);
      const { ssh, ...rest } = request.body;
      const access = ssh ? await checkSshAccess(node.environment, ssh) : ssh;
      const updated = await nodes.updateNode(node.id, { ...rest, ...(access !== undefined ? { ssh: access } : {}) });
      auditTarget(request, 'node', node.id, { environment: node.environment, name: node.name, changed: Object.keys(request.body) });
      return updated;
    },
  );

  app.delete(
    '/nodes/:id',
    { schema: { tags: ['nodes'], summary: 'Remove a node from the inventory; its agent credential stops working', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      auditTarget(request, 'node', request.params.id);
      const node = await nodeIn(request.params.id, 'administer', request);
      auditTarget(request, 'node', node.id, { environment: node.environment, name: node.name });
      const { rotatedKeyOf } = await nodes.remove(node.id);
      if (rotatedKeyOf) auditTarget(request, 'node', node.id, { environment: node.environment, name: node.name, rotatedPayloadKeyOf: rotatedKeyOf });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/agents/enroll',
    {
      // Authenticated by the enrollment token (once) or the agent credential it was traded for, not by a user.
      config: { public: true, rateLimit: { max: agents.enrollmentsPerMinute ?? 20, timeWindow: '1 minute' } },
      schema: {
        tags: ['nodes'],
        summary: "An agent's configuration: send Authorization: Bearer <enrollment token> once (the answer holds its credential), then Bearer <credential>",
        security: [{ bearer: [] }],
        response: { 200: Enrollment, ...problemResponses },
      },
    },
    async (request, reply) => {
      auditTarget(request, 'node', undefined, { via: 'agent' });
      const token = bearerToken(request);
      const enrolled = token?.startsWith('jen_') ? await nodes.enroll(token) : undefined;
      const node = enrolled?.node ?? (token?.startsWith('jag_') ? await nodes.authenticateAgent(token) : undefined);
      if (!node || !node.taskQueue) return sendProblem(reply, 401, 'the enrollment token is unknown, used or expired, or the agent credential is not valid');
      auditTarget(request, 'node', node.id, { environment: node.environment, name: node.name, via: 'agent', enrolled: Boolean(enrolled) });
      const codec = await agents.codecKey(node.environment);
      return {
        node: { id: node.id, name: node.name, environment: node.environment },
        temporal: { address: agents.temporalAddress, namespace: agents.namespace },
        taskQueue: node.taskQueue,
        codecKey: codec.key.toString('base64'),
        codecKeyGeneration: codec.generation,
        ...(enrolled ? { credential: enrolled.credential } : {}),
      };
    },
  );

  app.get(
    '/network/topology',
    {
      schema: {
        tags: ['nodes'],
        summary: "An environment's nodes, Swarm clusters and shared-subnet links, as JSON or Graphviz DOT (format=dot)",
        querystring: Type.Object({ environment: Environment, format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('dot')], { default: 'json' })) }),
        response: { 200: Type.Union([Topology, Type.String()]), ...problemResponses },
      },
    },
    async (request, reply) => {
      requirePermission(request, 'read', request.query.environment);
      const topology = await nodes.topology(request.query.environment);
      if (request.query.format === 'dot') return reply.type('text/vnd.graphviz; charset=utf-8').send(topologyToDot(topology));
      return topology;
    },
  );
};
