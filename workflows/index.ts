export { runbookInterpreter } from './runbook-interpreter.js';
export { nodeHealthCheck } from './node-health.js';
export { knowledgeIngest } from './knowledge-ingest.js';
export { scheduledRun } from './scheduled-run.js';
export { deliverNotification } from './notification-delivery.js';
export { purgeRunHistory } from './purge-run-history.js';
export { fleetBatch } from './fleet-batch.js';
