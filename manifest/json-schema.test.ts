import { describe, expect, it } from 'vitest';
import { compileInputsSchema, draftOf, InputsSchemaError } from './json-schema.js';

// Shaped like the public schemas users paste (SchemaStore and the like).
const deployConfig = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://example.org/schemas/deploy-config.json',
  type: 'object',
  definitions: {
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    service: {
      type: 'object',
      required: ['name', 'port'],
      properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' }, port: { $ref: '#/definitions/port' } },
      additionalProperties: false,
    },
  },
  required: ['services'],
  properties: {
    services: { type: 'array', minItems: 1, items: { $ref: '#/definitions/service' } },
    // A number of seconds, a duration string, or an object with both bounds.
    timeout: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]+[smh]$' }, { type: 'object', required: ['min', 'max'], properties: { min: { type: 'integer' }, max: { type: 'integer' } } }] },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    owner: { type: 'string', format: 'email', 'x-secret': false },
  },
};

const draft06Alert = {
  $schema: 'http://json-schema.org/draft-06/schema#',
  $id: 'https://example.org/schemas/alert.json',
  type: 'object',
  required: ['kind', 'severity'],
  properties: {
    kind: { const: 'alert' },
    severity: { enum: ['info', 'warning', 'critical'] },
    runbookUrl: { type: 'string', format: 'uri', nullable: true },
    tags: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    threshold: { type: 'number', exclusiveMaximum: 100 },
  },
};

const draft2019Backup = {
  $schema: 'https://json-schema.org/draft/2019-09/schema',
  $id: 'https://example.org/schemas/backup.json',
  type: 'object',
  $defs: { target: { type: 'object', required: ['host'], properties: { host: { type: 'string', format: 'hostname' }, port: { type: 'integer' } } } },
  required: ['target'],
  properties: {
    target: { $ref: '#/$defs/target' },
    retention: { anyOf: [{ type: 'integer', minimum: 1 }, { const: 'forever' }] },
    schedule: { allOf: [{ type: 'string' }, { minLength: 9 }] },
  },
  dependentRequired: { retention: ['schedule'] },
};

const draft2020Route = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://example.org/schemas/route.json',
  type: 'object',
  $defs: { method: { enum: ['GET', 'POST', 'PUT', 'DELETE'] } },
  required: ['route'],
  properties: {
    // [method, path, weight?]
    route: { type: 'array', prefixItems: [{ $ref: '#/$defs/method' }, { type: 'string', pattern: '^/' }, { type: 'integer' }], items: false, minItems: 2 },
    headers: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
  },
  unevaluatedProperties: false,
};

const draft04Server = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  id: 'https://example.org/schemas/server.json',
  type: 'object',
  definitions: { cpu: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 64, exclusiveMaximum: true } },
  required: ['name'],
  properties: { name: { type: 'string' }, cpus: { $ref: '#/definitions/cpu' } },
};

const validates = (schema: Record<string, unknown>, instance: unknown) => compileInputsSchema(schema)(structuredClone(instance));

describe('runbook input schemas', () => {
  it('reads the draft from $schema, and takes draft-07 when there is none', () => {
    expect(draftOf({ type: 'object' })).toBe('07');
    expect(draftOf(draft06Alert)).toBe('06');
    expect(draftOf({ $schema: 'https://json-schema.org/draft-07/schema' })).toBe('07');
    expect(draftOf(draft2019Backup)).toBe('2019-09');
    expect(draftOf(draft2020Route)).toBe('2020-12');
    expect(() => draftOf({ $schema: 'https://example.org/my-meta' })).toThrow(/unsupported \$schema "https:\/\/example.org\/my-meta" \(supported drafts: 04, 06, 07, 2019-09, 2020-12\)/);
  });

  it('validates a draft-07 schema with $id, $ref to definitions, a oneOf of mixed types, arrays of objects and maps', () => {
    const valid = { services: [{ name: 'api', port: 8080 }], timeout: '30s', labels: { team: 'ops' }, owner: 'ops@example.org' };
    expect(validates(deployConfig, valid)).toBe(true);
    expect(validates(deployConfig, { ...valid, timeout: 30 })).toBe(true);
    expect(validates(deployConfig, { ...valid, timeout: { min: 1, max: 2 } })).toBe(true);
    expect(validates(deployConfig, { ...valid, services: [{ name: 'api', port: 70000 }] })).toBe(false);
    expect(validates(deployConfig, { ...valid, timeout: 'soon' })).toBe(false);
    expect(validates(deployConfig, { ...valid, labels: { team: 1 } })).toBe(false);
    expect(validates(deployConfig, { ...valid, owner: 'not an email' })).toBe(false);
  });

  it('validates a draft-06 schema with const, nullable and a numeric exclusiveMaximum', () => {
    const valid = { kind: 'alert', severity: 'warning', runbookUrl: null, tags: ['a', 'b'], threshold: 99.5 };
    expect(validates(draft06Alert, valid)).toBe(true);
    expect(validates(draft06Alert, { ...valid, runbookUrl: 'https://wiki.example.org/x' })).toBe(true);
    expect(validates(draft06Alert, { ...valid, kind: 'page' })).toBe(false);
    expect(validates(draft06Alert, { ...valid, threshold: 100 })).toBe(false);
    expect(validates(draft06Alert, { ...valid, tags: ['a', 'a'] })).toBe(false);
  });

  it('validates a 2019-09 schema with $defs, anyOf, allOf and dependentRequired', () => {
    const valid = { target: { host: 'db.example.org' }, retention: 'forever', schedule: '0 3 * * *' };
    expect(validates(draft2019Backup, valid)).toBe(true);
    expect(validates(draft2019Backup, { target: { host: 'db.example.org' } })).toBe(true);
    expect(validates(draft2019Backup, { target: { host: 'db.example.org' }, retention: 7 })).toBe(false);
    expect(validates(draft2019Backup, { ...valid, retention: 'always' })).toBe(false);
    expect(validates(draft2019Backup, { ...valid, target: { host: 'not a host!' } })).toBe(false);
  });

  it('validates a 2020-12 schema with $defs, prefixItems and unevaluatedProperties', () => {
    expect(validates(draft2020Route, { route: ['GET', '/health'], headers: { accept: 'text/plain', cookie: null } })).toBe(true);
    expect(validates(draft2020Route, { route: ['GET', '/health', 3] })).toBe(true);
    expect(validates(draft2020Route, { route: ['FETCH', '/health'] })).toBe(false);
    expect(validates(draft2020Route, { route: ['GET', '/health', 3, 'extra'] })).toBe(false);
    expect(validates(draft2020Route, { route: ['GET', '/health'], surprise: true })).toBe(false);
  });

  it('validates a draft-04 schema with id and boolean exclusive bounds', () => {
    expect(validates(draft04Server, { name: 'web', cpus: 2 })).toBe(true);
    expect(validates(draft04Server, { name: 'web', cpus: 64 })).toBe(false);
    expect(validates(draft04Server, { name: 'web', cpus: 0 })).toBe(false);
  });

  it('compiles a schema with $id any number of times, and keeps two runbooks that share an $id apart', () => {
    const shared = 'https://example.org/schemas/shared.json';
    const strings = { $id: shared, type: 'object', properties: { value: { type: 'string' } } };
    const numbers = { $id: shared, type: 'object', properties: { value: { type: 'number' } } };
    for (let start = 0; start < 3; start += 1) expect(validates(structuredClone(strings), { value: 'x' })).toBe(true);
    expect(validates(numbers, { value: 1 })).toBe(true);
    expect(validates(numbers, { value: 'x' })).toBe(false);
    expect(validates(strings, { value: 1 })).toBe(false);
  });

  it('fills in defaults as it validates', () => {
    const schema = { type: 'object', properties: { retries: { type: 'integer', default: 3 } } };
    const inputs: Record<string, unknown> = {};
    expect(compileInputsSchema(schema)(inputs)).toBe(true);
    expect(inputs).toEqual({ retries: 3 });
  });

  it('refuses an unknown keyword with its path, in any draft, and allows vendor x- keywords anywhere', () => {
    const nested = (draft: string) => ({ $schema: draft, type: 'object', $defs: { token: { type: 'string', 'x-secret': true, secret: true } }, properties: { token: { $ref: '#/$defs/token' } } });
    for (const draft of ['https://json-schema.org/draft/2019-09/schema', 'https://json-schema.org/draft/2020-12/schema']) {
      const error = (() => {
        try {
          compileInputsSchema(nested(draft));
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(InputsSchemaError);
      expect((error as InputsSchemaError).message).toMatch(/^strict mode: unknown keyword: "secret" \(at inputs\.\$defs\.token\.secret\)$/);
    }
    expect(() => compileInputsSchema({ type: 'object', properties: { secret: { type: 'string', nullable: true, 'x-order': 2 } } })).not.toThrow();
  });

  it('accepts defaults inside oneOf and anyOf variants, as SchemaStore schemas write them, and still validates', () => {
    const validate = compileInputsSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { cache: { oneOf: [{ type: 'boolean', default: false }, { type: 'object', properties: { ttl: { type: 'integer', default: 60 } }, additionalProperties: false }] } },
    });
    expect(validate({ cache: { ttl: 30 } })).toBe(true);
    expect(validate({ cache: 'yes' })).toBe(false);
  });
});
