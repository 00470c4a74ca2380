import { z } from 'zod';
import * as schemas from './schemas.ts';
import { lockboxResetSchema, lockboxRetrySchema, lockboxViewSchema } from './promotion-schemas.ts';
import { pruneResultSchema } from './prune-schema.ts';

/**
 * The `--json` documents by file name, each with the zod schema the command's output is checked against. A view
 * added to schemas.ts is listed here (a `...ViewSchema` missing from this table fails test/unit/json-schemas.test.ts).
 */
export const jsonDocuments = {
  status: schemas.statusViewSchema,
  history: schemas.historyViewSchema,
  session: schemas.sessionViewSchema,
  budget: schemas.budgetViewSchema,
  'budget-set': schemas.budgetSetResultSchema,
  experiments: schemas.experimentsViewSchema,
  'experiments-show': schemas.experimentDetailViewSchema,
  hypotheses: schemas.hypothesesViewSchema,
  'hypotheses-show': schemas.hypothesisDetailViewSchema,
  lockbox: lockboxViewSchema,
  'lockbox-reset': lockboxResetSchema,
  'lockbox-retry': lockboxRetrySchema,
  error: schemas.errorResultSchema,
  'db-prune': pruneResultSchema,
} as const;

/** Each document's JSON Schema as the text written to schemas/<name>.json (stable: two-space JSON, newline). */
export function jsonSchemaDocuments(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, schema] of Object.entries(jsonDocuments)) {
    out[name] = `${JSON.stringify(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }), null, 2)}\n`;
  }
  return out;
}
