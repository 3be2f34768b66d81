// `POST /stacks/validate`: a Compose file read as `docker stack deploy` reads
// it, answered with the Docker Engine specs a deploy would send (services,
// networks, secrets and configs, never a secret's data), or refused with 400
// and every mistake and where it is. Pure: it touches no engine, so any signed-in user may ask.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { describePlan, planStack } from '../../infra/compose/stack-plan.js';
import { composeSource, stackInputSchema } from '../../infra/compose/stack-input.js';
import { JarvisProblem, zodIssuesToErrors } from '../../manifest/errors.js';
import { principalOf } from '../plugins/auth.js';
import { problemResponses } from '../schemas.js';

const Finding = Type.Object({ path: Type.String(), message: Type.String() });
const Validation = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Array(Finding),
  warnings: Type.Array(Finding),
  plan: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'The ServiceSpec of every service, and the networks, secrets and configs a deploy creates' })),
});

export const stackRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/stacks/validate',
    {
      schema: {
        tags: ['containers'],
        summary: 'Validate a Compose file as docker stack deploy reads it and show the Docker Engine ServiceSpecs a deploy would create or update',
        body: Type.Object(
          {
            stack: Type.String({ description: 'The Compose file (YAML text)' }),
            name: Type.String({ description: 'The stack name' }),
            variables: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Variables for ${VAR} interpolation' })),
            envFile: Type.Optional(Type.String({ description: 'An env file (KEY=value lines) for interpolation' })),
            files: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Files the Compose file names, by path relative to it' })),
            workingDir: Type.Optional(Type.String({ description: 'The directory relative bind mounts are resolved against' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Validation, ...problemResponses },
      },
      bodyLimit: 4 * 1024 * 1024,
    },
    async (request) => {
      principalOf(request);
      const input = stackInputSchema.safeParse(request.body);
      if (!input.success) throw new JarvisProblem('the validation request is invalid', 'invalid', zodIssuesToErrors('', input.error.issues));
      const result = planStack(composeSource(input.data));
      // A file Docker would refuse is a request to fix: 400 with every mistake and where it is.
      if (!result.ok) throw new JarvisProblem('the Compose file is not one docker stack deploy would accept', 'invalid', result.errors);
      const plan = describePlan(result.plan);
      return { valid: true, errors: [], warnings: plan.warnings, plan };
    },
  );
};
