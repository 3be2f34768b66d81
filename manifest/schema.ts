// The runbook manifest format (YAML), as zod schemas. The same schemas produce
// the published JSON Schema (runbooks/runbook.schema.json).
import { z } from 'zod';
import { ROLES } from './types.js';

const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;

export const durationSchema = z
  .string()
  .regex(DURATION_PATTERN, { error: (issue) => `"${String(issue.input)}" is not a duration: use 500ms, 30s, 5m, 2h or 1h30m` });

const roleSchema = z.enum(ROLES, {
  error: (issue) => (issue.input === undefined ? 'required' : `"${String(issue.input)}" is not a role: use ${ROLES.join(', ')}`),
});

const identifierSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, "-" and "_" only, starting with a letter or digit');

export const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).optional(),
    initialInterval: durationSchema.optional(),
    backoff: z.number().min(1).max(10).optional(),
    maxInterval: durationSchema.optional(),
    nonRetryable: z.array(z.string()).optional(),
  })
  .strict();

export const approvalSchema = z
  .object({
    role: roleSchema.describe('Who may approve: holders of this role (or admin) in the run environment.'),
    approvals: z.number().int().min(1, 'at least one approval is needed').default(1),
    deadline: durationSchema.optional().describe('Without a decision by then, the run ends rejected and compensates.'),
    allowStarter: z.boolean().default(false).describe('Whether the person who started the run may approve it (four-eyes: no by default).'),
  })
  .strict();

const amountSchema = z.union([z.number().int().min(0), z.string().min(1)]);

export const targetsSchema = z
  .union([
    z.string().min(1),
    z
      .object({
        all: z.literal(true).optional(),
        labels: z.record(z.string(), z.string().min(1)).optional(),
        names: z.array(z.string()).min(1).optional(),
        status: z.enum(['pending', 'online', 'unreachable']).optional(),
      })
      .strict(),
  ])
  .describe('Fleet steps: the nodes of the run environment the step runs on: "all", "site=a,role=edge", a ${{ expression }}, or { labels, names, status, all }.');

export const rolloutSchema = z
  .object({
    batch: amountSchema.optional().describe('Targets per batch: a count (10) or a percentage ("20%"); default: all at once.'),
    maxConcurrency: z.number().int().min(1).optional().describe('Targets of one batch running at the same time (default: the whole batch).'),
    maxFailures: amountSchema.optional().describe('Failures tolerated, a count or a percentage of the targets; one more stops the rollout (default 0).'),
    pauseBetween: durationSchema.optional().describe('A pause between batches.'),
    approveAfterFirstBatch: z
      .union([z.boolean(), z.object({ role: roleSchema.default('approver'), deadline: durationSchema.optional() }).strict()])
      .optional()
      .describe('The canary: after the first batch the rest waits for an approval (role approver unless given).'),
    onFailure: z.enum(['continue', 'stop']).default('stop').describe('When the budget is exceeded: stop fails the step (and the run), continue goes on with the next step.'),
    compensate: z
      .union([z.enum(['failed', 'done', 'none']), z.string().regex(/\$\{\{/, 'failed, done, none or a ${{ expression }} giving one')])
      .default('failed')
      .describe('Which targets get the compensate steps: failed ones, or also every done one when the rollout stops (or an expression of the inputs giving one).'),
  })
  .strict();

export const stepSchema = z
  .object({
    id: identifierSchema,
    title: z.string().optional(),
    action: z.string().optional().describe('An action id from the action catalog, e.g. shell.run.'),
    with: z.record(z.string(), z.unknown()).optional().describe('Arguments; strings may hold ${{ inputs.x }} or ${{ steps.id.output.y }}.'),
    retry: retrySchema.optional(),
    timeout: durationSchema.optional(),
    heartbeatTimeout: durationSchema.optional(),
    node: z
      .string()
      .min(1)
      .optional()
      .describe('For node-local actions (node.*): the node whose agent runs the step, by name or ${{ expression }}.'),
    targets: targetsSchema.optional(),
    rollout: rolloutSchema.optional().describe('With `targets`: how the step rolls out over its nodes.'),
    pickupTimeout: durationSchema
      .optional()
      .describe('With `node` or `targets`: how long the node’s agent has to pick the step up before it fails (default 5m).'),
    when: z.string().optional().describe('A condition; the step is skipped when it is false.'),
    continueOnError: z.boolean().optional(),
    get compensate() {
      return z.array(stepSchema).optional().describe('Action steps that undo this one if a later step fails or the run is cancelled.');
    },
    approval: approvalSchema.optional(),
    sleep: durationSchema.optional(),
    runbook: z.string().optional().describe('Starts another runbook as a child run.'),
    get parallel() {
      return z.array(stepSchema).optional().describe('Steps that run at the same time.');
    },
  })
  .strict();

export type RawStep = z.output<typeof stepSchema>;

const manifestFields = {
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and "-" only'),
  title: z.string().min(1),
  description: z.string().default(''),
  category: z.string().default('general'),
  tags: z.array(z.string()).default([]),
  environments: z.array(z.string().min(1)).min(1, 'list at least one environment').default(['dev', 'staging', 'prod']),
  requiredRole: roleSchema.default('operator'),
  inputs: z.record(z.string(), z.unknown()).default({ type: 'object', properties: {} }).describe('A JSON Schema (type: object) for the run inputs.'),
  concurrencyKey: z.string().optional().describe('One run at a time per rendered key, e.g. ${{ inputs.host }}.'),
  get targets() {
    return targetsSchema.optional().describe('Fleet runbooks: the targets of every node-local action step that names neither `node` nor `targets`.');
  },
  get rollout() {
    return rolloutSchema.optional().describe('With the runbook’s `targets`: the rollout of those steps that set none.');
  },
};

/** The manifest as published: steps fully typed. */
export const manifestSchema = z.object({ ...manifestFields, steps: z.array(stepSchema).min(1) }).strict();

/** The loader parses the envelope first and every step on its own, so one bad step does not hide the others' mistakes. */
export const manifestEnvelopeSchema = z
  .object({ ...manifestFields, steps: z.array(z.unknown()).min(1, 'a runbook needs at least one step') })
  .strict();

export type RawManifest = z.output<typeof manifestSchema>;
