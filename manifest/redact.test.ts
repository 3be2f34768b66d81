// Secret inputs are masked wherever a schema marks them, not only at the top:
// nested objects, maps, arrays of objects, local $refs and oneOf variants.
import { describe, expect, it } from 'vitest';
import { maskSecretInputs, redact, secretInputValues } from './redact.js';
import type { CompiledRunbook } from './types.js';

const runbook = (inputs: Record<string, unknown>) => ({ inputs }) as unknown as CompiledRunbook;

describe('secret inputs', () => {
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    definitions: { credential: { type: 'object', properties: { user: { type: 'string' }, password: { type: 'string', format: 'password' } } } },
    properties: {
      token: { type: 'string', 'x-secret': true },
      database: { $ref: '#/definitions/credential' },
      mirrors: { type: 'array', items: { $ref: '#/definitions/credential' } },
      headers: { type: 'object', additionalProperties: { type: 'string', 'x-secret': true } },
      auth: { oneOf: [{ type: 'string' }, { type: 'object', properties: { apiKey: { type: 'string', 'x-secret': true } } }] },
      region: { type: 'string' },
    },
  };
  const inputs = {
    token: 'tok-top-level',
    database: { user: 'shop', password: 'db-nested-secret' },
    mirrors: [{ user: 'a', password: 'mirror-secret-1' }],
    headers: { Authorization: 'Bearer map-secret' },
    auth: { apiKey: 'variant-secret' },
    region: 'eu-west',
  };

  it('masks them at any depth and keeps everything else', () => {
    expect(maskSecretInputs(runbook(schema), inputs)).toEqual({
      token: '***',
      database: { user: 'shop', password: '***' },
      mirrors: [{ user: 'a', password: '***' }],
      headers: { Authorization: '***' },
      auth: { apiKey: '***' },
      region: 'eu-west',
    });
  });

  it('finds their values for redaction in logs and errors', () => {
    const secrets = secretInputValues(runbook(schema), inputs);
    expect(secrets.sort()).toEqual(['Bearer map-secret', 'db-nested-secret', 'mirror-secret-1', 'tok-top-level', 'variant-secret']);
    expect(redact('connecting with db-nested-secret and variant-secret', secrets)).toBe('connecting with *** and ***');
  });

  it('survives a schema that refers to itself', () => {
    const recursive = { type: 'object', $defs: { node: { type: 'object', properties: { secret: { type: 'string', format: 'password' }, child: { $ref: '#/$defs/node' } } } }, properties: { tree: { $ref: '#/$defs/node' } } };
    expect(maskSecretInputs(runbook(recursive), { tree: { secret: 'abcd', child: { secret: 'efgh', child: {} } } })).toEqual({ tree: { secret: '***', child: { secret: '***', child: {} } } });
  });
});
