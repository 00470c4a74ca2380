// `npm run schemas`: writes schemas/<command>.json, the JSON Schema of every `--json` document, from the zod schemas
// the commands validate against (src/core/cli/views/schemas.ts). Checked in, so a change to a command's contract
// shows as a diff in review; test/unit/json-schemas.test.ts fails when they drift without being regenerated.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemaDocuments } from '../src/core/cli/views/json-schemas.ts';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(jsonSchemaDocuments())) writeFileSync(join(dir, `${name}.json`), text);
console.log(`wrote ${Object.keys(jsonSchemaDocuments()).length} schemas to schemas/`);
