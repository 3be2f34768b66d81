import type { Database } from '../../db/database.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { ResolvedConnection } from '../../security/connection-resolver.js';
import type { CredentialsCipher } from '../../security/credentials-cipher.js';

export interface ConnectionView {
  id: string;
  name: string;
  type: string;
  environment: string;
  config: Record<string, unknown>;
  /** Whether credentials are stored; they are never returned. */
  hasSecret: boolean;
  secretKeyId: string | null;
  /** SSH host keys pinned per address (`ssh` connections: trust on first use). */
  hostKeys: HostKeyView[];
  createdAt: string;
  updatedAt: string;
}

export interface HostKeyView {
  address: string;
  type: string;
  fingerprint: string;
  pinnedAt: string;
  pinnedBy: string | null;
}

type HostKeyRow = Awaited<ReturnType<Database['sshHostKey']['findFirstOrThrow']>>;
type ConnectionRow = Awaited<ReturnType<Database['connection']['findFirstOrThrow']>> & { environment: { name: string }; hostKeys: HostKeyRow[] };

const withDetails = { environment: true, hostKeys: { orderBy: { address: 'asc' } } } as const;

function hostKeyView(row: HostKeyRow): HostKeyView {
  return { address: row.address, type: row.keyType, fingerprint: row.fingerprint, pinnedAt: row.pinnedAt.toISOString(), pinnedBy: row.pinnedBy };
}

function view(row: ConnectionRow): ConnectionView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    environment: row.environment.name,
    config: row.config as Record<string, unknown>,
    hasSecret: row.secretCiphertext !== null,
    secretKeyId: row.secretKeyId,
    hostKeys: row.hostKeys.map(hostKeyView),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Checks a connection type's `config` before it is stored; throws a JarvisProblem that says what to fix. */
export type ConfigCheck = (config: Record<string, unknown>) => Promise<void>;

/** Connections: what it takes to reach a system, with credentials sealed at rest and write-only over the API. */
export class ConnectionService {
  constructor(
    private readonly db: Database,
    private readonly cipher: CredentialsCipher,
    /** Per type, e.g. git: its URL and branch become arguments of a program, so they are checked where they come in. */
    private readonly configChecks: Readonly<Record<string, ConfigCheck>> = {},
  ) {}

  private async checkConfig(type: string, config: Record<string, unknown>): Promise<void> {
    await this.configChecks[type]?.(config);
  }

  async list(environments: string[]): Promise<ConnectionView[]> {
    const rows = await this.db.connection.findMany({ where: { environment: { name: { in: environments } } }, include: withDetails, orderBy: { name: 'asc' } });
    return rows.map(view);
  }

  async environmentOf(id: string): Promise<string> {
    const row = await this.db.connection.findUnique({ where: { id }, include: { environment: true } });
    if (!row) throw new JarvisProblem(`no connection ${id}`, 'not-found');
    return row.environment.name;
  }

  async create(input: { environment: string; name: string; type: string; config: Record<string, unknown>; secret?: string }): Promise<ConnectionView> {
    const environment = await this.db.environment.findUnique({ where: { name: input.environment } });
    if (!environment) throw new JarvisProblem(`no environment ${input.environment}`, 'not-found');
    await this.checkConfig(input.type, input.config);
    if (await this.db.connection.findUnique({ where: { environmentId_name: { environmentId: environment.id, name: input.name } } })) {
      throw new JarvisProblem(`a connection named ${input.name} already exists in ${input.environment}`, 'conflict');
    }
    const id = crypto.randomUUID();
    const sealed = input.secret === undefined ? undefined : this.cipher.seal(input.secret, `connection:${id}`);
    const row = await this.db.connection.create({
      data: { id, name: input.name, type: input.type, environmentId: environment.id, config: input.config as object, secretCiphertext: sealed?.ciphertext, secretKeyId: sealed?.keyId },
      include: withDetails,
    });
    return view(row);
  }

  /**
   * `hostKeys: null` forgets the SSH host keys pinned on the connection (the
   * next step pins the key it meets); `forgotten` lists them, for the audit log.
   */
  async update(id: string, input: { config?: Record<string, unknown>; secret?: string | null; hostKeys?: null }): Promise<ConnectionView & { forgotten: HostKeyView[] }> {
    if (input.config) {
      const current = await this.db.connection.findUnique({ where: { id } });
      if (!current) throw new JarvisProblem(`no connection ${id}`, 'not-found');
      await this.checkConfig(current.type, input.config);
    }
    const sealed = typeof input.secret === 'string' ? this.cipher.seal(input.secret, `connection:${id}`) : undefined;
    return this.db.$transaction(async (tx) => {
      const forgotten = input.hostKeys === null ? await tx.sshHostKey.findMany({ where: { connectionId: id }, orderBy: { address: 'asc' } }) : [];
      const row = await tx.connection.update({
        where: { id },
        data: {
          ...(input.config ? { config: input.config as object } : {}),
          ...(sealed ? { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId } : {}),
          ...(input.secret === null ? { secretCiphertext: null, secretKeyId: null } : {}),
          ...(input.hostKeys === null ? { hostKeys: { deleteMany: {} } } : {}),
        },
        include: withDetails,
      });
      return { ...view(row), forgotten: forgotten.map(hostKeyView) };
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.connection.delete({ where: { id } });
  }

  /** A connection by name in an environment, with its credentials unsealed in memory, for the API's own calls to the system. */
  async resolve(environment: string, name: string): Promise<ResolvedConnection> {
    const row = await this.db.connection.findFirst({ where: { name, environment: { name: environment } }, include: { environment: true } });
    if (!row) throw new JarvisProblem(`no connection "${name}" in ${environment}`, 'not-found');
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      environment,
      config: row.config as Record<string, unknown>,
      ...(row.secretCiphertext ? { secret: this.cipher.open(row.secretCiphertext, `connection:${row.id}`) } : {}),
    };
  }

  /** The cleartext credentials, for activities that need them; never for an API answer. */
  async revealSecret(id: string): Promise<string | undefined> {
    const row = await this.db.connection.findUnique({ where: { id } });
    return row?.secretCiphertext ? this.cipher.open(row.secretCiphertext, `connection:${id}`) : undefined;
  }
}
