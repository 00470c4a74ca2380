/** What the simulator answers: a status and a JSON body, in the error shapes KTRDR uses (CONTRACT §1–§3). */
export const SIMULATOR_LABEL = 'ktrdr-agent simulator (not KTRDR)';
export const API_PREFIX = '/api/v1';

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function json(status: number, body: unknown): Reply {
  return { status, body };
}

export function detail(status: number, message: unknown): Reply {
  return json(status, { detail: message });
}

/** What a proxy in front of KTRDR answers when it refuses a request (FastAPI's `detail` shape). */
export function refused(status: number): Reply {
  return detail(status, status === 429 ? 'Too Many Requests' : status === 403 ? 'Forbidden' : 'Not authenticated');
}

export function globalError(status: number, code: string, message: string, details: unknown): Reply {
  return json(status, { success: false, error: { code, message, details } });
}

export function validationError(items: { field: string; message: string; type: string }[]): Reply {
  return globalError(422, 'VALIDATION_ERROR', 'Request validation failed', items);
}

export function notFound(id: string): Reply {
  return detail(404, `Operation not found: ${id}`);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
