// `npm run schema:write`: regenerates runbooks/runbook.schema.json from the manifest schemas.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config/env.js';
import { manifestJsonSchema } from './json-schema-document.js';

const file = path.join(PROJECT_ROOT, 'runbooks', 'runbook.schema.json');
writeFileSync(file, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);
