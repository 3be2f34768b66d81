// Visits every subschema of a JSON Schema (any draft), telling keywords apart
// from property names, so a mistake can be reported where it is.

export interface SchemaNode {
  node: Record<string, unknown>;
  /** Keys from the root to this subschema, e.g. ['properties', 'token']. */
  path: string[];
}

/** Keywords whose value is a map from names to subschemas. */
const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies'];
/** Keywords whose value is a list of subschemas. */
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
/** Keywords whose value is one subschema. */
const SCHEMA_VALUES = [
  'not', 'if', 'then', 'else', 'items', 'additionalItems', 'additionalProperties', 'contains',
  'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema',
];

const isObject = (value: unknown): value is Record<string, unknown> => Boolean(value) && typeof value === 'object' && !Array.isArray(value);

/** The schema and each of its subschemas, depth first, with their paths. */
export function schemaPathsOf(schema: Record<string, unknown>, path: string[] = []): SchemaNode[] {
  const found: SchemaNode[] = [{ node: schema, path }];
  for (const keyword of SCHEMA_MAPS) {
    const map = schema[keyword];
    if (!isObject(map)) continue;
    for (const [name, sub] of Object.entries(map)) if (isObject(sub)) found.push(...schemaPathsOf(sub, [...path, keyword, name]));
  }
  for (const keyword of SCHEMA_LISTS) {
    const list = schema[keyword];
    if (!Array.isArray(list)) continue;
    list.forEach((sub, index) => {
      if (isObject(sub)) found.push(...schemaPathsOf(sub, [...path, `${keyword}[${index}]`]));
    });
  }
  for (const keyword of SCHEMA_VALUES) {
    const sub = schema[keyword];
    if (isObject(sub)) found.push(...schemaPathsOf(sub, [...path, keyword]));
  }
  return found;
}
