// The checked-in JSON Schemas (schemas/*.json) are the `--json` contract as reviewers see it: they must be what the
// zod schemas say today, and every view schema must have one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jsonDocuments, jsonSchemaDocuments } from '../../src/core/cli/views/json-schemas.ts';
import * as schemas from '../../src/core/cli/views/schemas.ts';

const dir = fileURLToPath(new URL('../../schemas/', import.meta.url));

test('schemas/*.json match the zod schemas (regenerate with `npm run schemas` and review the diff)', () => {
  const generated = jsonSchemaDocuments();
  const checkedIn = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.replace(/\.json$/, ''))
    .sort();
  assert.deepEqual(checkedIn, Object.keys(generated).sort(), 'a schema file is missing or left over: run `npm run schemas`');
  const drifted = Object.entries(generated)
    .filter(([name, text]) => readFileSync(`${dir}${name}.json`, 'utf8') !== text)
    .map(([name]) => `schemas/${name}.json`);
  assert.deepEqual(drifted, [], 'the --json contract changed without its snapshot: run `npm run schemas` and review the diff');
});

test('every view schema of the CLI has a snapshot', () => {
  const listed = new Set<unknown>(Object.values(jsonDocuments));
  const views = Object.entries(schemas).filter(([name]) => name.endsWith('ViewSchema') || name.endsWith('ResultSchema'));
  assert.ok(views.length >= 10, `only ${views.length} view schemas found`);
  assert.deepEqual(
    views.filter(([, schema]) => !listed.has(schema)).map(([name]) => name),
    [],
    'add these to jsonDocuments in src/core/cli/views/json-schemas.ts',
  );
});
