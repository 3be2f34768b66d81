// `npm run histories:record`: runs the fixture runbooks on a fresh dev server
// and saves their histories under test/histories, where the suite replays them
// against the current workflow code. Re-record only on purpose: a history that
// stops replaying means runs in flight would break. Histories of older workflow
// versions (`*-v1.json`, before the run-summary projection) stay in the index.
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/env.js';
import { actionCatalog } from '../activities/catalog.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunService } from '../runs/run-service.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { RECORDED_HISTORIES_SECRET_KEY } from './history-key.js';
import { startLocalEngine } from './local-engine.js';
import { waitFor } from './wait.js';

const engine = await startLocalEngine({ name: 'record', taskQueue: 'record', secretKey: RECORDED_HISTORIES_SECRET_KEY });
const client = engine.client;
const service = new RunService(client, await RunbookCatalog.fromDirectory(path.join(PROJECT_ROOT, 'test', 'fixtures', 'runbooks'), actionCatalog), 'record', runAuthorityOf({ secretKey: RECORDED_HISTORIES_SECRET_KEY, dataDir: '' }));

const historiesDir = path.join(PROJECT_ROOT, 'test', 'histories');
// A replay must use the recorded workflow id: child run ids are derived from it.
type IndexEntry = { file: string; workflowId: string; runbook: string };
const indexFile = path.join(historiesDir, 'index.json');
const recorded: IndexEntry[] = [];

async function record(name: string, runbook: string, drive?: (id: string) => Promise<void>) {
  const { id } = await service.startRun({ runbook, inputs: {}, environment: 'dev', startedBy: 'recorder' });
  await drive?.(id);
  await client.workflow.getHandle(id).result().catch(() => undefined);
  const history = await service.fetchHistory(id);
  writeFileSync(path.join(historiesDir, `${name}.json`), `${historyToJSON(history)}\n`);
  recorded.push({ file: `${name}.json`, workflowId: id, runbook });
  console.log(`recorded ${name}: ${history.events?.length} events`);
}

await record('flow-approved', 'recorded-flow', async (id) => {
  await waitFor(async () => (await service.showRun(id)).progress?.steps.find((step) => step.id === 'gate')?.status === 'waiting', { message: `run ${id} to wait at its gate` });
  await service.approveStep(id, 'gate', 'approver-1', ['approver'], 'recorded');
});
await record('compensation-failed', 'recorded-compensation');
const kept = (JSON.parse(readFileSync(indexFile, 'utf8')) as IndexEntry[]).filter((entry) => !recorded.some((fresh) => fresh.file === entry.file));
writeFileSync(indexFile, `${JSON.stringify([...kept, ...recorded], null, 2)}\n`);

await engine.stop();
process.exit(0);
