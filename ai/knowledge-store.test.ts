import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded-postgres.js';
import { migrate } from '../db/migrator.js';
import { reportIdleConnectionError } from '../db/pool-errors.js';
import { useMigratedDatabase } from '../test/databases.js';
import { startFakeOpenAi, type FakeOpenAi } from '../test/fake-openai.js';
import { ProviderEmbedder, type Embedder } from './embedder.js';
import { KnowledgeInputError, KnowledgeNotFoundError } from './knowledge-documents.js';
import { KnowledgeStore, MAX_WEIGHT } from './knowledge-store.js';
import { LocalEmbedder } from './local-embedder.js';
import { ModelProvider } from './model-provider.js';

const database = useMigratedDatabase();

const days = (count: number) => new Date(Date.now() - count * 24 * 60 * 60 * 1_000);

async function countRows(table: 'knowledge_documents' | 'knowledge_chunks', title?: string): Promise<number> {
  const { rows } = title
    ? await database.pool.query<{ count: string }>(`SELECT count(*) FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id WHERE d.title = $1`, [title])
    : await database.pool.query<{ count: string }>(`SELECT count(*) FROM ${table}`);
  return Number(rows[0]!.count);
}

describe('the knowledge store on PostgreSQL with pgvector', () => {
  const store = () => new KnowledgeStore(database.pool, new LocalEmbedder());

  it('finds the document that matches the query, filtered by environment, kind and time', async () => {
    const knowledge = store();
    const prodDisk = await knowledge.addDocument({
      kind: 'incident',
      title: 'Deploy of shop failed: no space left on device',
      body: 'Step pull-image failed.\nError: write /var/lib/docker/tmp: no space left on device',
      environment: 'prod',
      runbook: 'deploy-shop',
      node: 'web-1',
      createdAt: days(3),
    });
    const stagingDisk = await knowledge.addDocument({
      kind: 'incident',
      title: 'Deploy of shop failed: no space left on device',
      body: 'Step pull-image failed.\nError: write /var/lib/docker/tmp: no space left on device',
      environment: 'staging',
      runbook: 'deploy-shop',
      node: 'web-9',
      createdAt: days(1),
    });
    const oldProdDisk = await knowledge.addDocument({
      kind: 'incident',
      title: 'Backup failed: no space left on device',
      body: 'pg_dump: could not write to output file: no space left on device',
      environment: 'prod',
      runbook: 'backup-db',
      createdAt: days(90),
    });
    const resolution = await knowledge.addDocument({
      kind: 'resolution',
      title: 'Freed disk space on web-1',
      body: 'Ran docker system prune -af; no space left on device errors stopped; deploy retried and succeeded.',
      environment: 'prod',
      node: 'web-1',
    });
    await knowledge.addDocument({ kind: 'note', title: 'TLS renewal', body: 'Certificates are renewed by certbot every 60 days; nginx reloads them.', environment: 'prod' });

    const query = 'docker pull failed: no space left on device /var/lib/docker';
    const all = await knowledge.search(query, { k: 10 });
    expect(all.map((hit) => hit.document.title).slice(0, 2)).toEqual(['Deploy of shop failed: no space left on device', 'Deploy of shop failed: no space left on device']);
    expect(all.at(-1)!.document.title).toBe('TLS renewal');
    expect(all[0]!.similarity).toBeGreaterThan(all.at(-1)!.similarity + 0.2);

    const prod = await knowledge.search(query, { environment: 'prod', kinds: ['incident'] });
    expect(prod.map((hit) => hit.document.id)).toEqual([prodDisk.id, oldProdDisk.id]);
    expect(prod[0]!.document).toMatchObject({ environment: 'prod', runbook: 'deploy-shop', node: 'web-1', weight: 1, kind: 'incident' });
    expect(prod[0]!.chunk.metadata).toEqual({ source: 'body', firstLine: 1, lastLine: 2 });

    expect((await knowledge.search(query, { environment: 'prod', kinds: ['incident'], since: days(30) })).map((hit) => hit.document.id)).toEqual([prodDisk.id]);
    expect((await knowledge.search(query, { kinds: ['incident'], until: days(2) }))[0]!.document.id).toBe(prodDisk.id);
    expect((await knowledge.search(query, { node: 'web-9' })).map((hit) => hit.document.id)).toEqual([stagingDisk.id]);
    expect((await knowledge.search(query, { runbook: 'backup-db' })).map((hit) => hit.document.id)).toEqual([oldProdDisk.id]);
    expect((await knowledge.search(query, { kinds: ['resolution', 'plan'] })).map((hit) => hit.document.id)).toEqual([resolution.id]);
    expect(await knowledge.search(query, { environment: 'nowhere' })).toEqual([]);
  });

  it('orders equally good matches by the feedback their documents received, within bounds', async () => {
    const knowledge = store();
    const restart = await knowledge.addDocument({ kind: 'resolution', title: 'Fix for redis timeouts', body: 'redis connection timeout on cache-1: restarted the redis container', environment: 'feedback' });
    const memory = await knowledge.addDocument({ kind: 'resolution', title: 'Fix for redis timeouts', body: 'redis connection timeout on cache-1: raised the redis memory limit', environment: 'feedback' });
    const query = 'redis connection timeout on cache-1';
    const before = await knowledge.search(query, { environment: 'feedback' });
    expect(before).toHaveLength(2);
    const [first, second] = before.map((hit) => hit.document.id);

    expect(await knowledge.applyFeedback(second!, 1)).toBe(2);
    expect(await knowledge.applyFeedback(first!, -0.5)).toBe(0.5);
    const after = await knowledge.search(query, { environment: 'feedback' });
    expect(after.map((hit) => hit.document.id)).toEqual([second, first]);
    expect(after[0]!.score).toBeGreaterThan(after[0]!.similarity);
    expect(after[1]!.score).toBeLessThan(after[1]!.similarity);

    expect(await knowledge.applyFeedback(restart.id, 100)).toBe(MAX_WEIGHT);
    expect(await knowledge.applyFeedback(memory.id, -100)).toBe(0.25);
    await expect(knowledge.applyFeedback('not-a-uuid', 1)).rejects.toBeInstanceOf(KnowledgeNotFoundError);
    await expect(knowledge.applyFeedback('00000000-0000-4000-8000-000000000000', 1)).rejects.toBeInstanceOf(KnowledgeNotFoundError);
  });

  it('stores nothing when the embedder fails part-way through a document', async () => {
    const local = new LocalEmbedder();
    const failsAfterFive: Embedder = {
      dimensions: 384,
      model: local.model,
      async embed(texts) {
        const vectors: number[][] = [];
        for (const text of texts) {
          if (vectors.length === 5) throw new Error('embedding service went away');
          vectors.push(...(await local.embed([text])));
        }
        return vectors;
      },
    };
    const longLog = Array.from({ length: 400 }, (_, index) => ({ number: index + 1, text: `line ${index}: retrying connection to db-1:5432 (attempt ${index})` }));
    const documentsBefore = await countRows('knowledge_documents');
    const chunksBefore = await countRows('knowledge_chunks');

    await expect(new KnowledgeStore(database.pool, failsAfterFive).addDocument({ kind: 'failed_run', title: 'Half-embedded run', body: 'Database unreachable', logLines: longLog })).rejects.toThrow('embedding service went away');
    expect(await countRows('knowledge_documents')).toBe(documentsBefore);
    expect(await countRows('knowledge_chunks')).toBe(chunksBefore);
  });

  it('stores nothing when the database refuses one chunk after the document was written', async () => {
    const local = new LocalEmbedder();
    // A float PostgreSQL's vector (float4) cannot hold: the chunks' insert fails inside the transaction.
    const poisonsThirdVector: Embedder = {
      dimensions: 384,
      model: local.model,
      async embed(texts) {
        const vectors = await local.embed(texts);
        vectors[2]![0] = 1e39;
        return vectors;
      },
    };
    const documentsBefore = await countRows('knowledge_documents');
    const logLines = Array.from({ length: 100 }, (_, index) => ({ number: index + 1, text: `step migrate: applying 2026_${index}_schema.sql` }));
    await expect(new KnowledgeStore(database.pool, poisonsThirdVector).addDocument({ kind: 'failed_run', title: 'Poisoned run', body: 'Migration failed', logLines })).rejects.toThrow(/out of range for type vector/);
    expect(await countRows('knowledge_documents')).toBe(documentsBefore);
    expect(await countRows('knowledge_chunks', 'Poisoned run')).toBe(0);
  });

  it('keeps the numbers of the log lines a chunk quotes, so an answer can cite them', async () => {
    const knowledge = store();
    const logLines = [
      ...Array.from({ length: 60 }, (_, index) => ({ number: 500 + index, text: `Pulling layer sha256:${String(index).padStart(4, '0')}abcdef... done` })),
      { number: 560, text: 'ERROR: failed to register layer: open /var/lib/docker/overlay2/l/ABC: no such file or directory' },
      ...Array.from({ length: 30 }, (_, index) => ({ number: 561 + index, text: `Cleaning up temporary files ${index}\u0000` })),
    ];
    const run = await knowledge.addDocument({ kind: 'failed_run', title: 'Run 7f3a: deploy-api failed at pull', body: 'Step pull failed after 3 attempts.', runId: '7f3a', environment: 'logs', logLines });

    const [hit] = await knowledge.search('failed to register layer overlay2 no such file or directory', { environment: 'logs', k: 1 });
    expect(hit!.document).toMatchObject({ id: run.id, runId: '7f3a' });
    expect(hit!.chunk.metadata.source).toBe('log');
    expect(hit!.chunk.metadata.firstLine).toBeLessThanOrEqual(560);
    expect(hit!.chunk.metadata.lastLine).toBeGreaterThanOrEqual(560);
    expect(hit!.chunk.text).toContain('failed to register layer');
  });

  it('links a resolution to the incident it fixed, and refuses links that make no sense', async () => {
    const knowledge = store();
    const incident = await knowledge.addDocument({ kind: 'incident', title: 'API 502s', body: 'Traefik answered 502 for api.example.org' });
    const fix = await knowledge.addDocument({ kind: 'resolution', title: 'Restarted api', body: 'Restarted the api service; 502s stopped.' });
    const note = await knowledge.addDocument({ kind: 'note', title: 'On-call note', body: 'Check the api health endpoint first.', incidentId: incident.id });

    await knowledge.linkResolution(incident.id, fix.id);
    expect((await knowledge.getDocument(fix.id))!.incidentId).toBe(incident.id);
    await knowledge.applyFeedback(fix.id, 1);
    expect((await knowledge.resolutionsOf(incident.id)).map((document) => document.id)).toEqual([fix.id, note.id]);

    await expect(knowledge.linkResolution(fix.id, note.id)).rejects.toBeInstanceOf(KnowledgeInputError);
    await expect(knowledge.linkResolution(incident.id, incident.id)).rejects.toBeInstanceOf(KnowledgeInputError);
    await expect(knowledge.linkResolution(incident.id, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(KnowledgeNotFoundError);
    await expect(knowledge.addDocument({ kind: 'resolution', title: 'Orphan', body: 'x', incidentId: fix.id })).rejects.toBeInstanceOf(KnowledgeInputError);
  });

  it('refuses an invalid document with what is wrong', async () => {
    await expect(store().addDocument({ kind: 'rumour' as 'note', title: ' ', body: 'x' })).rejects.toThrow(/kind: .*title: /s);
  });

  it('compares only vectors of the same embedding model, and embeds through the model provider when configured', async () => {
    const fake: FakeOpenAi = await startFakeOpenAi();
    try {
      const provider = new ModelProvider({ baseUrl: fake.baseUrl, apiKey: fake.apiKey, embeddingModel: 'text-embedding-3-small', timeoutMs: 5_000, maxRetries: 0 });
      const knowledge = new KnowledgeStore(database.pool, new ProviderEmbedder(provider));
      const document = await knowledge.addDocument({ kind: 'note', title: 'Kafka lag', body: 'consumer lag on orders topic grows when the broker disk is slow', environment: 'models' });
      expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'text-embedding-3-small', dimensions: 384 });

      const hits = await knowledge.search('consumer lag orders topic', { environment: 'models' });
      expect(hits.map((hit) => hit.document.id)).toEqual([document.id]);
      // The same document is invisible to the local embedder: its vectors are not comparable.
      expect(await store().search('consumer lag orders topic', { environment: 'models' })).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('answers a question spanning two topics with documents of both, within its filters', async () => {
    // Two topics as two orthogonal directions; each document's text says which, and where it sits in it.
    const unit = (values: number[]) => values.map((value) => value / Math.hypot(...values));
    const vectorOf = (text: string) => {
      const [, topic, offset] = /(alpha|beta) (\d+)/.exec(text) ?? [];
      const vector = Array.from({ length: 384 }, (_, index): number => (index === 50 + Number(offset ?? 0) ? 0.3 : 0));
      vector[topic === 'alpha' ? 0 : 1] = 1;
      return unit(vector);
    };
    const twoTopics: Embedder = { dimensions: 384, model: 'test-two-topics', embed: async (texts) => texts.map(vectorOf) };
    const knowledge = new KnowledgeStore(database.pool, twoTopics);
    const add = (title: string, environment: string) => knowledge.addDocument({ kind: 'note', title, body: '', environment });
    const prodAlpha = [await add('alpha 1', 'prod'), await add('alpha 2', 'prod')];
    const prodBeta = [await add('beta 3', 'prod'), await add('beta 4', 'prod')];
    await add('alpha 5', 'staging');
    await add('beta 6', 'staging');

    const between = unit([1, 1, ...Array.from({ length: 382 }, () => 0)]);
    const hits = await knowledge.searchByVector(between, { k: 4, environment: 'prod' });
    expect(hits.map((hit) => hit.document.id).sort()).toEqual([...prodAlpha, ...prodBeta].map((document) => document.id).sort());
    expect(hits.every((hit) => hit.document.environment === 'prod')).toBe(true);

    const everywhere = await knowledge.searchByVector(between, { k: 6 });
    expect(new Set(everywhere.map((hit) => hit.document.title.split(' ')[0]))).toEqual(new Set(['alpha', 'beta']));
    expect(everywhere).toHaveLength(6);
  });

  it('searches through the HNSW index', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const vector = JSON.stringify((await new LocalEmbedder().embed(['redis timeout']))[0]);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM knowledge_chunks ORDER BY embedding <=> $1::vector LIMIT 5`, [vector]);
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('knowledge_chunks_embedding_idx');
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});

describe('the knowledge store on embedded PGlite', () => {
  let embedded: EmbeddedPostgres;
  let embeddedPool: pg.Pool;

  beforeAll(async () => {
    embedded = await startEmbeddedPostgres();
    await migrate(embedded.url);
    embeddedPool = new pg.Pool({ connectionString: embedded.url, max: 4 });
    embeddedPool.on('error', reportIdleConnectionError);
  });

  afterAll(async () => {
    await embeddedPool?.end();
    await embedded?.stop();
  });

  it('adds, finds and weighs documents the same way', async () => {
    const knowledge = new KnowledgeStore(embeddedPool, new LocalEmbedder());
    const disk = await knowledge.addDocument({ kind: 'incident', title: 'Disk full on db-1', body: 'no space left on device while writing WAL', environment: 'prod' });
    await knowledge.addDocument({ kind: 'incident', title: 'Certificate expired', body: 'x509: certificate has expired for api.example.org', environment: 'prod' });

    const hits = await knowledge.search('WAL write failed: no space left on device', { environment: 'prod' });
    expect(hits[0]!.document.id).toBe(disk.id);
    expect(await knowledge.applyFeedback(disk.id, 0.5)).toBe(1.5);
  });
});
