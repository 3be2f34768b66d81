// The action catalog: the one registry of what a runbook step can do. Callers
// hand it to the manifest compiler; it documents actions and, through
// createActivities, gives the worker its activities.
import { actionCatalogOf, type ActionCatalog } from '../manifest/action-catalog.js';
import type { ActionDefinition } from './action.js';
import { ansiblePlaybook } from './ansible/ansible-playbook.js';
import { coreNoop, nodeNoop } from './core/noop.js';
import { cloudflareDnsDelete, cloudflareDnsUpsert } from './dns/cloudflare-actions.js';
import { dockerContainerInspect, dockerContainerLogs, dockerContainerRestart, dockerContainerStart, dockerContainerStop, dockerImagePrune } from './docker/docker-actions.js';
import { swarmServiceScale, swarmStackDeploy, swarmStackRemove, swarmStackValidate } from './docker/swarm-actions.js';
import { httpCheck, httpRequest } from './http/http-actions.js';
import { nodeContainerList, nodeContainerRestart, nodeContainerStart, nodeContainerStop, nodeHealth, nodeProfile } from './nodes/node-local-actions.js';
import { nodeRegister } from './nodes/node-register.js';
import { nodeServiceRestart, nodeShellRun } from './nodes/node-fleet-actions.js';
import { nodePackagesRollback, nodePackagesUpgrade, nodeReboot } from './nodes/node-package-actions.js';
import { notifyWebhook } from './notify/notify-webhook.js';
import { postgresBackup } from './postgres/postgres-backup.js';
import { shellRun } from './shell/shell-run.js';
import { sshCommand, sshProfile, sshWait } from './ssh/ssh-actions.js';
import { vpsServerCreate, vpsServerDestroy, vpsServerWait } from './vps/vps-actions.js';

export const actionCatalog: ActionCatalog<ActionDefinition> = actionCatalogOf([
  coreNoop,
  shellRun,
  httpRequest,
  httpCheck,
  ansiblePlaybook,
  notifyWebhook,
  postgresBackup,
  dockerContainerRestart,
  dockerContainerStop,
  dockerContainerStart,
  dockerContainerInspect,
  dockerContainerLogs,
  dockerImagePrune,
  swarmStackValidate,
  swarmStackDeploy,
  swarmServiceScale,
  swarmStackRemove,
  cloudflareDnsUpsert,
  cloudflareDnsDelete,
  vpsServerCreate,
  vpsServerWait,
  vpsServerDestroy,
  nodeRegister,
  nodeNoop,
  nodeProfile,
  nodeHealth,
  nodeContainerList,
  nodeContainerRestart,
  nodeContainerStop,
  nodeContainerStart,
  nodeShellRun,
  nodeServiceRestart,
  nodePackagesUpgrade,
  nodePackagesRollback,
  nodeReboot,
  sshWait,
  sshCommand,
  sshProfile,
] as unknown as readonly ActionDefinition[]);
