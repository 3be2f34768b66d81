// Which key a workflow payload is encrypted with. Each environment has its
// own (derived from the installation's secret), so decoding a prod payload
// needs the prod key: agents hold only their environment's, and the codec
// endpoint decodes only for admins of the payload's environment. A payload
// names its key in its metadata (`<environment>/<hash>`; the installation's
// own key, for payloads of no environment and of older runs, is `<hash>`).
import type { SerializationContext } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { SecretKey } from '../security/secret-key.js';

export const PAYLOAD_KEY_PURPOSE = 'workflow-payloads';

export interface PayloadKey {
  id: string;
  key: Buffer;
}

export interface PayloadKeyRing {
  /** The key payloads of `environment` are written with now; the installation's own without one. */
  encryptionKey(environment: string | undefined): Promise<PayloadKey>;
  /** The key of that id, or undefined when this process does not hold it. */
  keyById(id: string): Promise<Buffer | undefined>;
}

/** Which generation of each environment's key is current: it moves on when a node that held the key goes. */
export interface KeyGenerationSource {
  current(environment: string): Promise<number>;
}

const ENVIRONMENT = /@([a-z0-9][a-z0-9-]*)[.:]/;

/**
 * The environment a workflow or activity belongs to, from its ids: a run's id
 * is `<runbook>@<environment>.<n>` or `<runbook>@<environment>:<key>`, its
 * children's and its knowledge ingestion's ids contain it, and activities
 * sent to nodes outside a run name it in their activity id the same way.
 */
export function environmentOfContext(context: SerializationContext | undefined): string | undefined {
  if (!context) return undefined;
  if (context.type === 'activity' && context.activityId) {
    const fromActivity = ENVIRONMENT.exec(context.activityId)?.[1];
    if (fromActivity) return fromActivity;
  }
  return context.workflowId ? ENVIRONMENT.exec(context.workflowId)?.[1] : undefined;
}

/** The environment a payload's key id names (undefined: the installation's own key). */
export function environmentOfKeyId(keyId: string): string | undefined {
  const slash = keyId.indexOf('/');
  return slash > 0 ? keyId.slice(0, slash) : undefined;
}

/** `<environment>/<hash>` for an environment's first key, `<environment>/<generation>/<hash>` after rotations. */
function idOf(key: Buffer, environment?: string, generation = 0): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  if (!environment) return hash;
  return generation > 0 ? `${environment}/${generation}/${hash}` : `${environment}/${hash}`;
}

/** The installation's processes (API, workers, CLI): every environment's keys, derived on demand. */
export class DerivedPayloadKeyRing implements PayloadKeyRing {
  private readonly keys = new Map<string, PayloadKey>();
  private readonly installation: PayloadKey;

  /** `generations`: where the current generation of each environment's key is kept (none: the first, for ever). */
  constructor(
    private readonly secret: SecretKey,
    private readonly generations?: KeyGenerationSource,
  ) {
    const key = secret.derive(PAYLOAD_KEY_PURPOSE);
    this.installation = { id: idOf(key), key };
  }

  /** An environment's key of one generation (what its agents are given when it is the current one). */
  environmentKey(environment: string, generation = 0): PayloadKey {
    const name = generation > 0 ? `${environment}:${generation}` : environment;
    let known = this.keys.get(name);
    if (!known) {
      const key = this.secret.derive(`${PAYLOAD_KEY_PURPOSE}:${name}`);
      known = { id: idOf(key, environment, generation), key };
      this.keys.set(name, known);
    }
    return known;
  }

  async currentEnvironmentKey(environment: string): Promise<PayloadKey> {
    return this.environmentKey(environment, (await this.generations?.current(environment)) ?? 0);
  }

  async encryptionKey(environment: string | undefined): Promise<PayloadKey> {
    return environment ? this.currentEnvironmentKey(environment) : this.installation;
  }

  async keyById(id: string): Promise<Buffer | undefined> {
    if (id === this.installation.id) return this.installation.key;
    const parts = id.split('/');
    const [environment] = parts;
    const generation = parts.length === 3 ? Number(parts[1]) : 0;
    if (parts.length > 3 || !environment || !/^[a-z0-9][a-z0-9-]*$/.test(environment) || !Number.isSafeInteger(generation) || generation < 0) return undefined;
    const candidate = this.environmentKey(environment, generation);
    return candidate.id === id ? candidate.key : undefined;
  }
}

/** What an agent knows of its key: the key itself, and how to ask the API for the current one. */
export interface AgentKey {
  environment: string;
  key: Buffer;
  generation?: number;
}

const REFRESH_AT_MOST_EVERY_MS = 5_000;

/**
 * An agent: its own environment's keys and nothing else; everything it writes
 * is of that environment. Meeting a newer key of its environment (the key was
 * rotated when another node went), it asks the API for it with its own
 * credential, which a removed node no longer has.
 */
export class AgentKeyRing implements PayloadKeyRing {
  private readonly keys = new Map<string, Buffer>();
  private latest: PayloadKey;
  private refreshedAt = 0;

  constructor(
    private readonly own: AgentKey,
    private readonly refresh?: () => Promise<AgentKey>,
  ) {
    this.latest = this.remember(own);
  }

  private remember(key: AgentKey): PayloadKey {
    const known = { id: idOf(key.key, key.environment, key.generation ?? 0), key: key.key };
    this.keys.set(known.id, known.key);
    return known;
  }

  async encryptionKey(): Promise<PayloadKey> {
    return this.latest;
  }

  async keyById(id: string): Promise<Buffer | undefined> {
    const known = this.keys.get(id);
    if (known || !this.refresh || environmentOfKeyId(id) !== this.own.environment) return known;
    if (Date.now() - this.refreshedAt < REFRESH_AT_MOST_EVERY_MS) return undefined;
    this.refreshedAt = Date.now();
    const fresh = await this.refresh().catch(() => undefined);
    if (fresh && fresh.environment === this.own.environment) this.latest = this.remember(fresh);
    return this.keys.get(id);
  }
}
