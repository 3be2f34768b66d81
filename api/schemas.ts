import { Type, type Static } from '@sinclair/typebox';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'An RFC 9457 problem: what went wrong and what to fix.' },
);
export type Problem = Static<typeof ProblemSchema>;

export const problemResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  429: ProblemSchema,
  500: ProblemSchema,
};

export const RunIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 300, pattern: '^[A-Za-z0-9._:@-]+$' }) });
export const RunbookNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9-]*$' }) });
export const StepParams = Type.Object({
  id: RunIdParams.properties.id,
  step: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' }),
});
