// Malformed requests generated from the API's own OpenAPI document: every one
// must get a 4xx problem+json answer, never a 5xx, and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiForTests } from './api-harness.js';
import { writeManifests } from './harness.js';

const PASSWORD = 'correct horse battery staple';
const INJECTIONS = ["' OR 1=1 --", '../../../../etc/passwd', '<script>alert(1)</script>', '${{ run.id }}', '\u0000', '%00', '{"$gt": ""}', '; rm -rf / #'];

interface SchemaObject {
  type?: string | string[];
  properties?: Record<string, SchemaObject>;
  required?: string[];
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  anyOf?: SchemaObject[];
}

interface Operation {
  parameters?: Array<{ in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema: SchemaObject }>;
  requestBody?: { content: Record<string, { schema: SchemaObject }> };
}

interface FuzzRequest {
  method: string;
  url: string;
  payload?: string;
  contentType?: string;
  /** Replaces the caller's valid token. */
  authorization?: string;
  label: string;
}

const wrongTypeValues = (schema: SchemaObject): unknown[] => {
  const types = [schema.type].flat();
  const values: unknown[] = [];
  if (!types.includes('string')) values.push('not-the-right-type');
  if (!types.includes('number') && !types.includes('integer')) values.push(12345);
  if (!types.includes('boolean')) values.push(true);
  if (!types.includes('object')) values.push({ nested: { deep: ['x'] } });
  if (!types.includes('array')) values.push(['a', 'b']);
  values.push(null);
  // Injection strings smuggled in as the wrong type: arrays, operator objects, or text where a number belongs.
  for (const injection of INJECTIONS) {
    if (types.includes('string')) values.push([injection], { $ne: injection });
    else values.push(injection);
  }
  return values;
};

/** A value of the property's own type that its schema still refuses (too long, off-pattern, off-format, off-enum). */
const invalidOfSameType = (schema: SchemaObject): unknown[] => {
  const values: unknown[] = [];
  if (schema.type === 'string') {
    values.push('x'.repeat((schema.maxLength ?? 100_000) + 1));
    if (schema.pattern || schema.format || schema.enum) values.push(...INJECTIONS);
  }
  if (schema.type === 'integer') values.push(-1e12, 1.5);
  return values;
};

function validBody(schema: SchemaObject): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const property = schema.properties?.[name] ?? {};
    body[name] = property.enum?.[0] ?? (property.format === 'email' ? 'someone@example.org' : property.type === 'integer' ? 1 : property.type === 'object' ? {} : 'valid-text-value-1');
  }
  return body;
}

function generate(path: string, method: string, operation: Operation, isPublic: boolean): FuzzRequest[] {
  const requests: FuzzRequest[] = [];
  const pathParams = (operation.parameters ?? []).filter((parameter) => parameter.in === 'path');
  const fill = (values: Record<string, string>) => path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(values[name] ?? 'nope'));
  const sane = fill({});
  for (const parameter of pathParams) {
    for (const bad of [...INJECTIONS, 'x'.repeat(400), '']) requests.push({ method, url: fill({ [parameter.name]: bad }), label: `path ${parameter.name}=${bad.slice(0, 20)}` });
  }
  for (const parameter of (operation.parameters ?? []).filter((entry) => entry.in === 'query')) {
    const values = parameter.schema.type === 'integer' ? ['abc', '-5', '1e309', '99999999999'] : ['x'.repeat((parameter.schema.maxLength ?? 10_000) + 1)];
    for (const value of values) requests.push({ method, url: `${sane}?${parameter.name}=${encodeURIComponent(value)}`, label: `query ${parameter.name}` });
  }
  const schema = operation.requestBody?.content['application/json']?.schema;
  if (schema?.properties) {
    const base = validBody(schema);
    const send = (body: unknown, label: string) => requests.push({ method, url: sane, payload: JSON.stringify(body), contentType: 'application/json', label });
    for (const [name, property] of Object.entries(schema.properties)) {
      for (const value of [...wrongTypeValues(property), ...invalidOfSameType(property)]) send({ ...base, [name]: value }, `body ${name}=${JSON.stringify(value)?.slice(0, 20)}`);
    }
    for (const name of schema.required ?? []) {
      const { [name]: _removed, ...rest } = base;
      send(rest, `body without ${name}`);
    }
    send({ ...base, unexpectedField: INJECTIONS[0] }, 'body with an unknown field');
    send([base], 'body as an array');
    send('just a string', 'body as a string');
  }
  for (const injection of isPublic ? [] : INJECTIONS) {
    requests.push({ method, url: sane, authorization: `Bearer ${injection}`, label: `token ${injection.slice(0, 10)}` });
  }
  if (method !== 'GET' && method !== 'DELETE') {
    requests.push({ method, url: sane, payload: '{"unterminated": ', contentType: 'application/json', label: 'broken JSON' });
    requests.push({ method, url: sane, payload: JSON.stringify({ blob: 'x'.repeat(1_100_000) }), contentType: 'application/json', label: 'oversized body' });
    requests.push({ method, url: sane, payload: '<xml/>', contentType: 'application/xml', label: 'unsupported media type' });
  }
  return requests;
}

let api: Awaited<ReturnType<typeof startApiForTests>>;
let authorization: string;

beforeAll(async () => {
  api = await startApiForTests(writeManifests({ 'fuzz-target': 'name: fuzz-target\ntitle: Fuzz target\nsteps:\n  - id: a\n    action: core.noop\n' }), [
    { email: 'erin@example.org', password: PASSWORD, grants: [['prod', 'admin']] },
  ]);
  authorization = `Bearer ${await api.logIn('erin@example.org', PASSWORD)}`;
}, 120_000);

afterAll(async () => api?.stop());

/** The rows of every table of the database, found in the catalog so a table added later is counted too. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await api.prisma.$queryRaw<Array<{ name: string }>>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`;
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await api.prisma.$queryRawUnsafe<Array<{ rows: number }>>(`SELECT count(*)::int AS rows FROM "${name.replaceAll('"', '""')}"`);
    counts[name] = row!.rows;
  }
  return counts;
}

async function stateSnapshot() {
  const [tables, runs, successes] = await Promise.all([
    rowCounts(),
    // Other suites start runs on the same Temporal server: count only this suite's runbook.
    api.services.runs.listRuns({ runbook: 'fuzz-target' }).then((list) => list.length),
    api.prisma.auditEntry.count({ where: { outcome: 'success' } }),
  ]);
  // Every request is audited, refused ones too: the audit log is the one table that grows, by refusals only.
  const { audit_log: _audited, ...unchanging } = tables;
  return { tables: unchanging, auditedSuccesses: successes, runs };
}

describe('malformed requests', () => {
  it('get 4xx problem+json answers, never a 5xx, and change nothing', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
    const publicRoutes = new Set(api.app.routeList.filter((route) => route.public).map((route) => `${route.method} ${route.url.replace(/:(\w+)/g, '{$1}')}`));
    const requests = Object.entries(document.paths)
      .filter(([path]) => !path.startsWith('/ws/'))
      .flatMap(([path, operations]) => Object.entries(operations).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })))
      .filter(({ method }) => method !== 'HEAD' && method !== 'OPTIONS')
      .flatMap(({ path, method, operation }) => generate(path, method, operation, publicRoutes.has(`${method} ${path}`)));
    expect(requests.length).toBeGreaterThanOrEqual(1_000);

    const before = await stateSnapshot();
    expect(Object.keys(before.tables).length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(before.tables)).toEqual(expect.arrayContaining(['users', 'role_grants', 'connections', 'idempotency_keys', 'run_log_lines', 'knowledge_documents', 'ai_plans']));
    const unexpected: string[] = [];
    for (const request of requests) {
      const response = await api.app.inject({
        method: request.method as 'POST',
        url: request.url,
        headers: { authorization: request.authorization ?? authorization, ...(request.contentType ? { 'content-type': request.contentType } : {}) },
        ...(request.payload !== undefined ? { payload: request.payload } : {}),
      });
      const problem = String(response.headers['content-type'] ?? '').includes('application/problem+json');
      if (response.statusCode < 400 || response.statusCode >= 500 || !problem) {
        unexpected.push(`${request.method} ${request.url.slice(0, 80)} (${request.label}) → ${response.statusCode} ${response.body.slice(0, 120)}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(await stateSnapshot()).toEqual(before);
  }, 180_000);
});
