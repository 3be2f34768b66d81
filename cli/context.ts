// What every command shares: the parsed environment and the connections it
// opens lazily, at most once per invocation: Temporal straight, or the API
// with the session's token.
import { actionCatalog } from '../activities/catalog.js';
import type { JarvisEnv } from '../config/env.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { JarvisProblem } from '../manifest/errors.js';
import { RunService } from '../runs/run-service.js';
import { runAuthorityOf } from '../security/run-authority.js';
import { createTemporalClient } from '../temporal/client.js';
import { createDataConverter } from '../temporal/payload-codec.js';
import { temporalTlsOf } from '../temporal/tls.js';
import { ApiClient } from './api-client.js';
import { ApiRunOperations, TemporalRunOperations, type RunOperations } from './run-operations.js';
import { readSession } from './session.js';

/** The installation's runbooks, compiled against the actions this build has. */
export function loadRunbooks(env: JarvisEnv): Promise<RunbookCatalog> {
  return RunbookCatalog.fromDirectory(env.runbooksDir, actionCatalog);
}

export interface TemporalServices {
  service: RunService;
  catalog: RunbookCatalog;
  close(): Promise<void>;
}

export interface CliContext {
  readonly env: JarvisEnv;
  /** Run services straight on Temporal (the connection is closed by `close`). */
  temporal(): Promise<TemporalServices>;
  /** Through the API when there is a session (`jarvis login` or JARVIS_API_TOKEN), else straight to Temporal. */
  runOperations(): Promise<RunOperations>;
  /** The API as the session's user; commands that act through the API only (RBAC, audit and approvals apply) refuse to run without one. */
  api(): ApiClient;
  close(): Promise<void>;
}

export function createCliContext(env: JarvisEnv): CliContext {
  let temporal: Promise<TemporalServices> | undefined;
  let operations: Promise<RunOperations> | undefined;
  const sessionClient = () => {
    const session = readSession(env);
    return session ? new ApiClient(session.apiUrl, session.token) : undefined;
  };
  const context: CliContext = {
    env,
    temporal() {
      temporal ??= (async () => {
        const catalog = await loadRunbooks(env);
        const client = await createTemporalClient({ address: env.temporalAddress ?? `127.0.0.1:${env.temporalPort}`, namespace: env.namespace, tls: temporalTlsOf(env) }, createDataConverter(env), 5_000);
        return { service: new RunService(client, catalog, env.taskQueue, runAuthorityOf(env)), catalog, close: () => client.connection.close() };
      })();
      return temporal;
    },
    runOperations() {
      operations ??= (async () => {
        const api = sessionClient();
        if (api) return new ApiRunOperations(api);
        return new TemporalRunOperations((await context.temporal()).service);
      })();
      return operations;
    },
    api() {
      const api = sessionClient();
      if (!api) throw new JarvisProblem('container commands go through the API: run `npx jarvis login` first (or set JARVIS_API_TOKEN)', 'invalid');
      return api;
    },
    async close() {
      if (temporal) await (await temporal.catch(() => undefined))?.close();
    },
  };
  return context;
}
