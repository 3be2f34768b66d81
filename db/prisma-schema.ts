// Reads the tables and columns schema.prisma describes, for the test that
// proves the migrations produce exactly that database.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/env.js';

export interface ExpectedColumn {
  table: string;
  column: string;
  dataType: string;
  nullable: boolean;
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Boolean: 'boolean',
  DateTime: 'timestamp with time zone',
  Json: 'jsonb',
  Float: 'double precision',
};

export function expectedColumns(schemaFile = path.join(PROJECT_ROOT, 'prisma', 'schema.prisma')): ExpectedColumn[] {
  const source = readFileSync(schemaFile, 'utf8');
  const enums = new Set([...source.matchAll(/^enum (\w+) \{/gm)].map((match) => match[1]));
  const columns: ExpectedColumn[] = [];
  for (const match of source.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const body = match[2] ?? '';
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1] ?? match[1] ?? '';
    for (const line of body.split('\n')) {
      const field = /^\s+(\w+)\s+(\w+)(\?|\[\])?(.*)$/.exec(line);
      if (!field || line.trim().startsWith('//') || line.trim().startsWith('@@')) continue;
      const [, name, type, modifier, attributes] = field;
      if (modifier === '[]' || !type) continue;
      // A column of a type Prisma has no name for, e.g. Unsupported("vector(384)") for pgvector.
      const unsupported = type === 'Unsupported' ? /^\("[^"]*"\)(\?)?(.*)$/.exec(attributes ?? '') : null;
      if (unsupported) {
        columns.push({ table, column: /@map\("([^"]+)"\)/.exec(unsupported[2] ?? '')?.[1] ?? name!, dataType: 'USER-DEFINED', nullable: unsupported[1] === '?' });
        continue;
      }
      const scalar = SCALAR_TYPES[type];
      if (!scalar && !enums.has(type)) continue; // a relation field: no column of its own
      const dataType = enums.has(type) ? 'USER-DEFINED' : attributes?.includes('@db.Uuid') ? 'uuid' : scalar!;
      columns.push({ table, column: /@map\("([^"]+)"\)/.exec(attributes ?? '')?.[1] ?? name!, dataType, nullable: modifier === '?' });
    }
  }
  return columns;
}
