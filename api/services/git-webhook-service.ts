// A git host's webhook, from request to answer: refuse what the connection's
// webhookSecret did not sign, answer GitHub's ping, ignore what is not a push
// to the connection's branch (tags, other branches, other events), sync once
// per delivery id, and say in every answer which of these happened.
import type { Database } from '../../db/database.js';
import type { GitSyncResult, GitSyncService } from './git-sync-service.js';
import { readWebhook, type GitHost } from './git-webhook.js';

/** Deliveries are remembered this long: hosts redeliver within hours, by hand within days. */
const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface WebhookAnswer {
  outcome: 'synced' | 'ignored' | 'duplicate' | 'pong';
  detail: string;
  host: GitHost;
  event: string;
  delivery?: string;
  sync?: GitSyncResult;
}

export type WebhookResult = { status: 200 | 202; answer: WebhookAnswer } | { status: 400 | 401; detail: string };

export class GitWebhookService {
  constructor(
    private readonly git: GitSyncService,
    private readonly db: Database,
  ) {}

  async receive(environment: string, connection: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<WebhookResult> {
    // An unknown connection is answered like a wrong signature: the webhook URL tells nothing to a guesser.
    const target = await this.git.webhookTarget(environment, connection).catch(() => undefined);
    const reading = readWebhook(headers, body, target?.secret);
    if (!reading.ok) return reading;
    if (!target) return { status: 401, detail: 'the webhook signature is missing or wrong' };
    const { host, event, push, delivery, ref } = reading.delivery;
    const base = { host, event, ...(delivery ? { delivery } : {}) };
    if (host === 'github' && event === 'ping') {
      return { status: 200, answer: { ...base, outcome: 'pong', detail: `pong: the webhook reaches connection "${connection}" of ${environment} and its signature is right; nothing was synced` } };
    }
    if (!push) return { status: 202, answer: { ...base, outcome: 'ignored', detail: `ignored: ${host} event "${event}" is not a push; nothing was synced` } };
    const branchRef = `refs/heads/${target.branch}`;
    if (ref !== branchRef) {
      const what = ref === undefined ? 'a push without a ref' : ref.startsWith('refs/tags/') ? `a push of tag ${ref.slice('refs/tags/'.length)}` : `a push to ${ref}`;
      return { status: 202, answer: { ...base, outcome: 'ignored', detail: `ignored: ${what}, and connection "${connection}" follows ${branchRef}; nothing was synced` } };
    }
    if (delivery && !(await this.claim(target.connectionId, `${host}:${delivery}`))) {
      return { status: 200, answer: { ...base, outcome: 'duplicate', detail: `duplicate: delivery ${delivery} was already handled; nothing was synced again` } };
    }
    let sync: GitSyncResult;
    try {
      sync = await this.git.sync(environment, connection, null);
    } catch (error) {
      // A delivery whose sync failed may be redelivered (by hand, after a fix) and should then sync.
      if (delivery) await this.release(target.connectionId, `${host}:${delivery}`);
      throw error;
    }
    return { status: 200, answer: { ...base, outcome: 'synced', detail: `synced commit ${sync.commit.slice(0, 12)} of ${branchRef}`, sync } };
  }

  /** True when this delivery is new (and now remembered); two redeliveries racing here claim it once. */
  private async claim(connectionId: string, deliveryId: string): Promise<boolean> {
    await this.db.gitWebhookDelivery.deleteMany({ where: { receivedAt: { lt: new Date(Date.now() - DELIVERY_RETENTION_MS) } } });
    const created = await this.db.gitWebhookDelivery.createMany({ data: [{ connectionId, deliveryId }], skipDuplicates: true });
    return created.count === 1;
  }

  private async release(connectionId: string, deliveryId: string): Promise<void> {
    await this.db.gitWebhookDelivery.deleteMany({ where: { connectionId, deliveryId } });
  }
}
