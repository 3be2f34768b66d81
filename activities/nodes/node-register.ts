// node.register: provisioning records the machine it has just set up in the
// node inventory of the run's environment, with the profile it collected.
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { NODE_NAME_PATTERN } from '../../manifest/node-names.js';
import { hardwareProfileSchema } from '../../infra/node-profile.js';
import { JarvisProblem } from '../../manifest/errors.js';
import { defineAction } from '../action.js';

export const nodeRegister = defineAction({
  id: 'node.register',
  title: 'Register a node',
  description:
    'Adds a machine to the node inventory of the run’s environment (or refreshes it): online, with its hardware profile and labels. Provisioning calls it with the profile it collected over SSH.',
  risk: 'low',
  input: z
    .object({
      name: z.string().regex(new RegExp(NODE_NAME_PATTERN), 'lowercase letters, digits and "-" (at most 63)').describe('The node’s name, unique in the environment'),
      address: z.string().min(1).max(255).describe('How the node is reached (IP address or host name)'),
      labels: z.record(z.string().max(100), z.string().max(500)).default({}),
      profile: hardwareProfileSchema,
      sshConnection: z.string().max(100).default('').describe('The `ssh` connection that reached it: fleet steps reach it through it until an agent enrolls (empty: none)'),
      sshUser: z
        .string()
        .regex(/^([a-z_][a-z0-9_-]*)?$/)
        .default('')
        .describe("The login over that connection (empty: the connection's)"),
    })
    .strict(),
  output: z.object({ id: z.string(), name: z.string(), created: z.boolean() }),
  defaults: { timeout: '1m', retry: { maxAttempts: 5, initialInterval: '1s', backoff: 2, maxInterval: '30s' } },
  create: (deps) => async (args, context) => {
    if (!deps.nodes) throw ApplicationFailure.nonRetryable('this worker has no database, so it cannot keep the node inventory', 'NoDatabase');
    try {
      const { sshConnection, sshUser, ...node } = args;
      const registered = await deps.nodes.upsertFromProvisioning({ ...node, environment: context.step.environment, ...(sshConnection ? { ssh: { connection: sshConnection, user: sshUser } } : {}) });
      context.log('system', `node ${args.name} (${args.address}) ${registered.created ? 'added to' : 'refreshed in'} the inventory of ${context.step.environment}`);
      return registered;
    } catch (error) {
      if (error instanceof JarvisProblem) throw ApplicationFailure.nonRetryable(error.message, 'UnknownEnvironment');
      throw error;
    }
  },
});
