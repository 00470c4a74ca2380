// KTRDR routes the agent never calls, read by the simulator's fidelity tests: results, checkpoints and retry.
import type * as z from 'zod/mini';
import { errorFromResponse } from '../../src/core/ktrdr/errors.ts';
import { checkpointListSchema, checkpointResponseSchema, operationEnvelopeSchema, operationResultsSchema } from '../../src/core/ktrdr/schemas.ts';

async function call<S extends z.ZodMiniType>(baseUrl: string, method: 'GET' | 'POST', route: string, path: string, schema: S): Promise<z.output<S>> {
  const response = await fetch(`${baseUrl}${path}`, method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: '{}' } : { method });
  const text = await response.text();
  if (!response.ok) throw errorFromResponse(response.status, text, { method, route });
  return schema.parse(JSON.parse(text));
}

/** A client of the routes only the tests read; `baseUrl` includes the API prefix, as KtrdrClient's does. */
export function ktrdrRoutes(baseUrl: string) {
  const id = encodeURIComponent;
  return {
    getOperationResults: (operationId: string) =>
      call(baseUrl, 'GET', '/operations/{id}/results', `/operations/${id(operationId)}/results`, operationResultsSchema),
    retryOperation: async (operationId: string) =>
      (await call(baseUrl, 'POST', '/operations/{id}/retry', `/operations/${id(operationId)}/retry`, operationEnvelopeSchema)).data,
    listCheckpoints: async () => {
      const body = await call(baseUrl, 'GET', '/checkpoints', '/checkpoints', checkpointListSchema);
      return { checkpoints: body.data, totalCount: body.total_count ?? body.data.length };
    },
    getCheckpoint: async (operationId: string) =>
      (await call(baseUrl, 'GET', '/checkpoints/{id}', `/checkpoints/${id(operationId)}`, checkpointResponseSchema)).data,
  };
}
