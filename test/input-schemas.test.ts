import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const users = [{ email: 'olga@example.org', password: PASSWORD, grants: [['prod', 'operator']] as Array<[string, 'operator']> }];

// Two runbooks declaring the same $id with different schemas (and drafts), as copied public schemas do.
const identified = (name: string, valueType: string, draftLine: string) => `
name: ${name}
title: Identified inputs
environments: [prod]
inputs:
  ${draftLine}
  $id: https://example.org/schemas/shared-inputs.json
  type: object
  definitions: { value: { type: ${valueType} } }
  required: [value]
  properties: { value: { $ref: "#/definitions/value" } }
steps:
  - id: done
    action: core.noop
`;

let api: Awaited<ReturnType<typeof startApiForTests>>;
let token = '';

beforeAll(async () => {
  api = await startApiForTests(
    writeManifests({
      strings: identified('strings', 'string', '# no $schema: draft-07'),
      numbers: identified('numbers', 'number', '$schema: https://json-schema.org/draft/2020-12/schema'),
    }),
    users,
  );
  token = await api.logIn(users[0]!.email, PASSWORD);
}, 120_000);

afterAll(async () => api?.stop());

const start = (runbook: string, inputs: Record<string, unknown>) =>
  api.app.inject({ method: 'POST', url: `/runbooks/${runbook}/execute`, headers: { authorization: `Bearer ${token}` }, payload: { environment: 'prod', inputs } });

describe('runbook inputs schemas through the API', () => {
  it('starts a runbook whose inputs schema has an $id as many times as asked', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await start('strings', { value: `v${attempt}` })).statusCode).toBe(201);
  });

  it('validates two runbooks sharing an $id each against its own schema', async () => {
    expect((await start('numbers', { value: 7 })).statusCode).toBe(201);
    const refused = await start('numbers', { value: 'seven' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors[0]).toMatchObject({ path: 'inputs.value' });
    expect((await start('strings', { value: 7 })).statusCode).toBe(400);
  });
});
