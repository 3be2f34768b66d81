// The composition root of the control plane: builds every service from the
// configuration, for the API process, `npm start` and the tests alike.
import type { Client } from '@temporalio/client';
import type { JarvisEnv } from '../config/env.js';
import type { Database } from '../db/database.js';
import { RunbookCatalog } from '../manifest/catalog.js';
import { RunService } from '../runs/run-service.js';
import { CredentialsCipher } from '../security/credentials-cipher.js';
import { SecretKey } from '../security/secret-key.js';
import { EncryptionCodec } from '../temporal/payload-codec.js';
import { AccessTokens } from '../security/tokens.js';
import type { ApiDependencies } from './app.js';
import { AuditService } from './services/audit-service.js';
import { AuthService } from './services/auth-service.js';
import { ConnectionService } from './services/connection-service.js';
import { UserService } from './services/user-service.js';

export type ControlPlaneConfig = Pick<JarvisEnv, 'dataDir' | 'secretKey' | 'runbooksDir' | 'taskQueue' | 'accessTokenTtlMs' | 'refreshTokenTtlMs'>;

export async function createControlPlane(config: ControlPlaneConfig, db: Database, temporal: Client): Promise<ApiDependencies> {
  const secret = SecretKey.load(config.secretKey, config.dataDir);
  const catalog = await RunbookCatalog.fromDirectory(config.runbooksDir);
  return {
    db,
    temporal,
    catalog,
    runs: new RunService(temporal, catalog, config.taskQueue),
    auth: new AuthService(db, new AccessTokens(secret.derive('access-tokens'), config.accessTokenTtlMs), config.refreshTokenTtlMs),
    audit: new AuditService(db),
    users: new UserService(db),
    connections: new ConnectionService(db, new CredentialsCipher([secret.derive('credentials')])),
    payloadCodec: new EncryptionCodec(secret.derive('workflow-payloads')),
  };
}
