// The API as one Fastify plugin tree. server.ts (production) and the tests
// build it with the same factory; only the dependencies differ.
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { RunLogListener } from '../logs/run-log-listener.js';
import type { RunLogStore } from '../logs/run-log-store.js';
import type { LogTickets } from '../security/tokens.js';
import type { RunbookCatalog } from '../manifest/catalog.js';
import type { RunService } from '../runs/run-service.js';
import audit from './plugins/audit.js';
import auth from './plugins/auth.js';
import errors, { sendProblem } from './plugins/errors.js';
import metrics from './plugins/metrics.js';
import { adminRoutes } from './routes/admin.js';
import { aiRoutes } from './routes/ai.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { codecRoutes } from './routes/codec.js';
import type { NotificationService } from './services/notification-service.js';
import type { NotificationEvents } from '../notifications/notification-events.js';
import { connectionRoutes } from './routes/connections.js';
import { notificationRoutes } from './routes/notifications.js';
import { egressRoutes } from './routes/egress.js';
import type { EgressAllowlistStore } from '../infra/egress-allowlist-store.js';
import websocket from '@fastify/websocket';
import { containerRoutes } from './routes/containers.js';
import { stackRoutes } from './routes/stacks.js';
import { gitRoutes } from './routes/git.js';
import { liveLogRoutes } from './routes/live-logs.js';
import { nodeRoutes, type AgentSettings } from './routes/nodes.js';
import type { NodeStore } from '../infra/node-store.js';
import { healthRoutes } from './routes/health.js';
import { runbookRoutes } from './routes/runbooks.js';
import { scheduleRoutes } from './routes/schedules.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import { reportRoutes } from './routes/reports.js';
import { runRoutes } from './routes/runs.js';
import { artifactRoutes } from './routes/artifacts.js';
import type { RunArtifacts } from '../artifacts/run-artifacts.js';
import { triggerRoutes } from './routes/triggers.js';
import { retentionRoutes } from './routes/retention.js';
import type { RetentionService } from './services/retention-service.js';
import { cooperativeRoutes } from './routes/cooperative.js';
import type { CooperativeService } from '../cooperative/cooperative-service.js';
import { ProblemSchema } from './schemas.js';
import { installValidators } from './validation.js';
import type { AiPlanService } from './services/ai-plan-service.js';
import type { AiService } from './services/ai-service.js';
import type { AuditService } from './services/audit-service.js';
import { BulkRunService } from './services/bulk-run-service.js';
import type { AuthService } from './services/auth-service.js';
import type { ConnectionService } from './services/connection-service.js';
import type { EnvironmentService } from './services/environment-service.js';
import type { HealthService } from './services/health-service.js';
import type { IdempotencyKeyService } from './services/idempotency-key-service.js';
import type { RunbookVersionService } from './services/runbook-version-service.js';
import type { GitSyncService } from './services/git-sync-service.js';
import type { GitWebhookService } from './services/git-webhook-service.js';
import type { UserService } from './services/user-service.js';
import type { TriggerReceiver } from './services/trigger-receiver.js';
import type { TriggerService } from './services/trigger-service.js';
import type { RunReportService } from '../runs/run-report.js';

export interface ApiDependencies {
  temporal: Client;
  runs: RunService;
  catalog: RunbookCatalog;
  auth: AuthService;
  audit: AuditService;
  users: UserService;
  environments: EnvironmentService;
  /** The runs callers' Idempotency-Keys started. */
  idempotencyKeys: IdempotencyKeyService;
  health: HealthService;
  connections: ConnectionService;
  runbookVersions: RunbookVersionService;
  git: GitSyncService;
  /** Webhooks of git hosts (GitHub, GitLab, Gitea/Forgejo) that re-sync a git connection. */
  gitWebhooks: GitWebhookService;
  /** The codec that encrypts workflow payloads, for Temporal's web UI. */
  payloadCodec: PayloadCodec;
  logStore: RunLogStore;
  logListener: RunLogListener;
  logTickets: LogTickets;
  nodes: NodeStore;
  /** What enrolling agents are told (Temporal's address, the payload codec key). */
  agents: AgentSettings;
  /** AI Ops: diagnosis, chat, knowledge search, notes and feedback. */
  ai: AiService;
  /** AI Ops plans and the action policies they respect. */
  aiPlans: AiPlanService;
  /** Each environment's egress allowlist for http and notify actions. */
  egressAllowlists: EgressAllowlistStore;
  /** Runbooks on Temporal Schedules. */
  schedules: ScheduleService;
  /** Inbound webhook triggers (and the Alertmanager receiver): their settings, and deliveries to their URLs. */
  triggers: TriggerService;
  triggerReceiver: TriggerReceiver;
  /** Notification rules, subscriptions, "send a test" and the delivery log. */
  notifications: NotificationService;
  /** Run figures per runbook and environment over a time range, from the run-summary projection. */
  reports: RunReportService;
  /** Where other parts report events to notify (schedule.fire-refused, trigger.refused). */
  notificationEvents: NotificationEvents;
  /** Files steps published: listed and downloaded from runs. */
  artifacts: RunArtifacts;
  /** Each environment's retention of run history, holds on runs, purges and their reports. */
  retention: RetentionService;
  /** The cooperative: credit accounts, transfers, statements, treasurers. */
  cooperative: CooperativeService;
}

export interface ApiSettings {
  corsOrigins: string[];
  /** Refresh cookies are `Secure` unless the API is served over plain HTTP on loopback. */
  secureCookies: boolean;
  /** Requests per minute per client address. */
  rateLimitPerMinute: number;
  /** Sign-in attempts per minute per client address (default 10). */
  loginAttemptsPerMinute?: number;
  /** Peers whose X-Forwarded-For is believed (addresses or CIDR ranges); default loopback only. */
  trustedProxies?: string[];
  logger?: FastifyServerOptions['logger'];
}

export const BODY_LIMIT_BYTES = 1_048_576;
export const DEFAULT_TRUSTED_PROXIES = ['127.0.0.1', '::1'];

export interface RouteEntry {
  method: string;
  url: string;
  public: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with whether it is public: the RBAC and audit tests walk it. */
    routeList: RouteEntry[];
  }
}

export async function buildApi(deps: ApiDependencies, settings: ApiSettings): Promise<FastifyInstance> {
  const app = Fastify({
    logger: settings.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // A client address comes from X-Forwarded-For only when the peer is one of our proxies
    // (the web server, Traefik): anyone else could claim any address to dodge rate limits.
    trustProxy: settings.trustedProxies ?? DEFAULT_TRUSTED_PROXIES,
    // Run ids may be long (runbook@concurrency-key); longer ones get a problem answer, not a router error.
    maxParamLength: 300,
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, 400, `the URL is invalid: ${error.message}`);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installValidators(app);

  const routeList: RouteEntry[] = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (route) => {
    // The OpenAPI document and UI are public: they describe the API, they hold no data.
    if (route.url.startsWith('/docs')) route.config = { ...(route.config as object), public: true };
    for (const method of [route.method].flat()) {
      // HEAD mirrors GET; OPTIONS is the CORS preflight, answered before authentication.
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routeList.push({ method, url: route.url, public: Boolean((route.config as { public?: boolean } | undefined)?.public) });
    }
  });

  // External plugins first, then ours, then routes.
  await app.register(helmet, { contentSecurityPolicy: false });
  await app.register(cors, { origin: settings.corsOrigins, credentials: true, exposedHeaders: ['x-next-cursor'] });
  await app.register(cookie);
  await app.register(rateLimit, {
    max: settings.rateLimitPerMinute,
    timeWindow: '1 minute',
    errorResponseBuilder: (_request, context) => ({ statusCode: 429, message: `too many requests: at most ${context.max} per ${context.after}` }),
  });
  app.addSchema(ProblemSchema);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Jarvis API', version: '0.1.0', description: 'Runbooks, runs, approvals. Errors are application/problem+json.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  await app.register(errors);
  await app.register(metrics);
  await app.register(auth, { auth: deps.auth });
  await app.register(audit, { audit: deps.audit });

  // One WebSocket server for every socket route (run logs, container logs).
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(healthRoutes, { health: deps.health });
  await app.register(authRoutes, { auth: deps.auth, users: deps.users, secureCookies: settings.secureCookies, loginAttemptsPerMinute: settings.loginAttemptsPerMinute ?? 10 });
  await app.register(runbookRoutes, { catalog: deps.catalog, runs: deps.runs, idempotencyKeys: deps.idempotencyKeys, versions: deps.runbookVersions });
  await app.register(runRoutes, { runs: deps.runs, bulk: new BulkRunService(deps.runs, deps.audit), holds: deps.retention });
  await app.register(artifactRoutes, { runs: deps.runs, artifacts: deps.artifacts, audit: deps.audit });
  await app.register(retentionRoutes, { retention: deps.retention, runs: deps.runs });
  await app.register(cooperativeRoutes, { cooperative: deps.cooperative, runs: deps.runs });
  await app.register(reportRoutes, { reports: deps.reports });
  await app.register(scheduleRoutes, { schedules: deps.schedules });
  await app.register(adminRoutes, { environments: deps.environments, users: deps.users, auth: deps.auth });
  await app.register(connectionRoutes, { connections: deps.connections });
  await app.register(egressRoutes, { allowlists: deps.egressAllowlists });
  await app.register(notificationRoutes, { notifications: deps.notifications });
  await app.register(stackRoutes);
  await app.register(containerRoutes, { runs: deps.runs, connections: deps.connections, tickets: deps.logTickets, allowedOrigins: settings.corsOrigins });
  await app.register(gitRoutes, { git: deps.git, webhooks: deps.gitWebhooks });
  await app.register(triggerRoutes, { triggers: deps.triggers, receiver: deps.triggerReceiver });
  await app.register(nodeRoutes, { nodes: deps.nodes, agents: deps.agents, connections: deps.connections });
  await app.register(aiRoutes, { ai: deps.ai, plans: deps.aiPlans, runs: deps.runs });
  await app.register(auditRoutes, { audit: deps.audit });
  await app.register(codecRoutes, { codec: deps.payloadCodec });
  await app.register(liveLogRoutes, { runs: deps.runs, store: deps.logStore, listener: deps.logListener, tickets: deps.logTickets, allowedOrigins: settings.corsOrigins });
  return app;
}
