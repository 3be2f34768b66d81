// Triggers as data: create, change, rotate and delete them, read their
// delivery log. A secret is generated here, sealed at rest like connection
// credentials, and shown once (at creation and at each rotation).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.js';
import { JarvisProblem, type ManifestError } from '../../manifest/errors.js';
import { parseExpression } from '../../manifest/expression.js';
import { conditionSource, templateExpressions } from '../../manifest/template.js';
import type { CredentialsCipher } from '../../security/credentials-cipher.js';
import { can, rolesIn, satisfiesRole, type Principal } from '../rbac.js';
import type { TriggerAuth } from './trigger-requests.js';

export type TriggerKind = 'webhook' | 'alertmanager';

export interface TriggerView {
  id: string;
  name: string;
  kind: TriggerKind;
  runbook: string;
  environment: string;
  ownerId: string | null;
  ownerEmail: string | null;
  auth: TriggerAuth;
  filter: string | null;
  inputs: Record<string, unknown>;
  dedupKey: string | null;
  rateLimitPerMinute: number;
  enabled: boolean;
  /** Where deliveries go, on the API's address. */
  path: string;
  createdAt: string;
  updatedAt: string;
}

export interface TriggerDeliveryView {
  id: string;
  requestId: string;
  receivedAt: string;
  outcome: string;
  runId: string | null;
  reason: string | null;
  alertFingerprint: string | null;
  bodySha256: string;
  bodyBytes: number;
}

export interface TriggerSettings {
  name: string;
  kind: TriggerKind;
  runbook: string;
  environment: string;
  auth: TriggerAuth;
  filter?: string | null;
  inputs?: Record<string, unknown>;
  dedupKey?: string | null;
  rateLimitPerMinute?: number;
  enabled?: boolean;
}

export type TriggerChanges = Partial<Pick<TriggerSettings, 'name' | 'filter' | 'inputs' | 'dedupKey' | 'rateLimitPerMinute' | 'enabled'>>;

/** A trigger as deliveries need it, with its secret opened. */
export interface TriggerForDelivery extends TriggerView {
  secret: string;
}

/** What a runbook needs to be named by a trigger: it exists, it may run in the environment, and the role it needs. */
export type RunbookLookup = (name: string) => { environments: string[]; requiredRole: Principal['grants'][number]['role'] };

type TriggerRow = Awaited<ReturnType<Database['trigger']['findFirstOrThrow']>>;

const DEFAULT_RATE_LIMIT = 60;

export const triggerPath = (id: string) => `/webhooks/triggers/${id}`;

const sealContext = (id: string) => `trigger:${id}`;

/** Every expression a trigger holds, parsed now, so a delivery never meets a syntax error. */
function checkExpressions(settings: Pick<TriggerSettings, 'filter' | 'inputs' | 'dedupKey'>): void {
  const errors: ManifestError[] = [];
  const check = (path: string, source: string) => {
    try {
      parseExpression(source);
    } catch (error) {
      errors.push({ path, message: (error as Error).message });
    }
  };
  if (settings.filter) check('filter', conditionSource(settings.filter));
  const walk = (path: string, value: unknown): void => {
    if (typeof value === 'string') for (const source of templateExpressions(value)) check(path, source);
    else if (Array.isArray(value)) value.forEach((item, index) => walk(`${path}[${index}]`, item));
    else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) walk(`${path}.${key}`, item);
  };
  walk('inputs', settings.inputs ?? {});
  if (settings.dedupKey) {
    if (templateExpressions(settings.dedupKey).length === 0)
      errors.push({ path: 'dedupKey', message: 'a dedup key is a template such as ${{ body.id }}: a fixed text would make every delivery a duplicate' });
    walk('dedupKey', settings.dedupKey);
  }
  if (errors.length > 0) throw new JarvisProblem('the trigger has expressions that cannot be read:', 'invalid', errors);
}

function viewOf(row: TriggerRow, ownerEmail: string | null): TriggerView {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as TriggerKind,
    runbook: row.runbook,
    environment: row.environment,
    ownerId: row.ownerId,
    ownerEmail,
    auth: row.auth as TriggerAuth,
    filter: row.filter,
    inputs: row.inputs as Record<string, unknown>,
    dedupKey: row.dedupKey,
    rateLimitPerMinute: row.rateLimitPerMinute,
    enabled: row.enabled,
    path: triggerPath(row.id),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export class TriggerService {
  constructor(
    private readonly db: Database,
    private readonly cipher: CredentialsCipher,
    private readonly runbookOf: RunbookLookup,
  ) {}

  private async view(row: TriggerRow): Promise<TriggerView> {
    return (await this.views([row]))[0]!;
  }

  /** Rows as views, their owners' emails read in one query. */
  private async views(rows: TriggerRow[]): Promise<TriggerView[]> {
    const ownerIds = [...new Set(rows.map((row) => row.ownerId).filter((id): id is string => id !== null))];
    const owners = ownerIds.length === 0 ? [] : await this.db.user.findMany({ where: { id: { in: ownerIds } }, select: { id: true, email: true } });
    const emails = new Map(owners.map((owner) => [owner.id, owner.email]));
    return rows.map((row) => viewOf(row, row.ownerId ? (emails.get(row.ownerId) ?? null) : null));
  }

  private async row(id: string): Promise<TriggerRow> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.trigger.findUnique({ where: { id } }) : null;
    if (!row) throw new JarvisProblem(`no trigger ${id}`, 'not-found');
    return row;
  }

  async list(environments: string[]): Promise<TriggerView[]> {
    return this.views(await this.db.trigger.findMany({ where: { environment: { in: environments } }, orderBy: [{ environment: 'asc' }, { name: 'asc' }] }));
  }

  async show(id: string): Promise<TriggerView> {
    return this.view(await this.row(id));
  }

  /** The trigger with its secret, or undefined for an id no trigger has. */
  async forDelivery(id: string): Promise<TriggerForDelivery | undefined> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.db.trigger.findUnique({ where: { id } }) : null;
    if (!row) return undefined;
    return { ...(await this.view(row)), secret: this.cipher.open(row.secretCiphertext, sealContext(row.id)) };
  }

  /** Whether `principal` may start the runbook in the environment, as POST /runbooks/:name/execute decides it. */
  mayRun(principal: Principal, runbook: string, environment: string): boolean {
    const { requiredRole } = this.runbookOf(runbook);
    return can(principal, 'execute', environment) && satisfiesRole(rolesIn(principal, environment), requiredRole);
  }

  /** A user's principal as the API would build it from their token, or undefined when the account is gone or disabled. */
  async principalOf(userId: string | null): Promise<Principal | undefined> {
    if (!userId) return undefined;
    const user = await this.db.user.findUnique({ where: { id: userId }, include: { grants: { include: { environment: true } } } });
    if (!user || user.disabled) return undefined;
    return { id: user.id, email: user.email, grants: user.grants.map((grant) => ({ environment: grant.environment.name, role: grant.role })) };
  }

  /** The new trigger, owned by `owner`, and its secret (shown this once). */
  async create(settings: TriggerSettings, owner: Principal): Promise<{ trigger: TriggerView; secret: string }> {
    const runbook = this.runbookOf(settings.runbook);
    if (!runbook.environments.includes(settings.environment)) {
      throw new JarvisProblem(`runbook "${settings.runbook}" cannot run in "${settings.environment}"; it allows ${runbook.environments.join(', ')}`, 'invalid');
    }
    if (!this.mayRun(owner, settings.runbook, settings.environment)) {
      throw new JarvisProblem(`a trigger starts runs as you: starting ${settings.runbook} in ${settings.environment} needs the operator role there (and ${runbook.requiredRole})`, 'forbidden');
    }
    if (settings.kind === 'alertmanager' && settings.auth !== 'bearer') {
      throw new JarvisProblem('an alertmanager trigger takes bearer auth: Alertmanager sends its credentials as Authorization: Bearer', 'invalid');
    }
    checkExpressions(settings);
    if (!(await this.db.environment.findUnique({ where: { name: settings.environment } }))) throw new JarvisProblem(`no environment ${settings.environment}`, 'not-found');
    if (await this.db.trigger.findUnique({ where: { environment_name: { environment: settings.environment, name: settings.name } } })) {
      throw new JarvisProblem(`a trigger named ${settings.name} already exists in ${settings.environment}`, 'conflict');
    }
    const id = randomUUID();
    const secret = newSecret();
    const sealed = this.cipher.seal(secret, sealContext(id));
    const row = await this.db.trigger.create({
      data: {
        id,
        name: settings.name,
        kind: settings.kind,
        runbook: settings.runbook,
        environment: settings.environment,
        ownerId: owner.id,
        auth: settings.auth,
        secretCiphertext: sealed.ciphertext,
        secretKeyId: sealed.keyId,
        filter: settings.filter ?? null,
        inputs: (settings.inputs ?? {}) as object,
        dedupKey: settings.dedupKey ?? null,
        rateLimitPerMinute: settings.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT,
        enabled: settings.enabled ?? true,
      },
    });
    return { trigger: await this.view(row), secret };
  }

  async update(id: string, changes: TriggerChanges): Promise<TriggerView> {
    const current = await this.row(id);
    checkExpressions({ filter: changes.filter, inputs: changes.inputs, dedupKey: changes.dedupKey });
    if (changes.name !== undefined && changes.name !== current.name) {
      if (await this.db.trigger.findUnique({ where: { environment_name: { environment: current.environment, name: changes.name } } })) {
        throw new JarvisProblem(`a trigger named ${changes.name} already exists in ${current.environment}`, 'conflict');
      }
    }
    const row = await this.db.trigger.update({
      where: { id },
      data: {
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.filter !== undefined ? { filter: changes.filter } : {}),
        ...(changes.inputs !== undefined ? { inputs: changes.inputs as object } : {}),
        ...(changes.dedupKey !== undefined ? { dedupKey: changes.dedupKey } : {}),
        ...(changes.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: changes.rateLimitPerMinute } : {}),
        ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
      },
    });
    return this.view(row);
  }

  /** A new secret, shown this once; the old one stops working at once. */
  async rotateSecret(id: string): Promise<{ trigger: TriggerView; secret: string }> {
    await this.row(id);
    const secret = newSecret();
    const sealed = this.cipher.seal(secret, sealContext(id));
    const row = await this.db.trigger.update({ where: { id }, data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId } });
    return { trigger: await this.view(row), secret };
  }

  async remove(id: string): Promise<void> {
    await this.row(id);
    await this.db.trigger.delete({ where: { id } });
  }

  async deliveries(id: string, limit = 100): Promise<TriggerDeliveryView[]> {
    await this.row(id);
    const rows = await this.db.triggerDelivery.findMany({ where: { triggerId: id }, orderBy: { id: 'desc' }, take: limit });
    return rows.map((row) => ({
      id: row.id.toString(),
      requestId: row.requestId,
      receivedAt: row.receivedAt.toISOString(),
      outcome: row.outcome,
      runId: row.runId,
      reason: row.reason,
      alertFingerprint: row.alertFingerprint,
      bodySha256: row.bodySha256,
      bodyBytes: row.bodyBytes,
    }));
  }
}

/** 256 random bits, recognisable in a leak scan by its prefix. */
function newSecret(): string {
  return `jts_${randomBytes(32).toString('base64url')}`;
}
