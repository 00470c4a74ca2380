import type { ContentBlock, ToolResultBlockParam, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import type { ToolErrorKind } from '../session/model.ts';
import { isInfrastructureFault, type InfrastructureFault } from '../kernel/faults.ts';

/** A refused call may say its kind (`ktrdr_rejected`); without one it is the tool's own refusal, `rejected`. */
export type ToolOutcome = { ok: true; content: unknown } | { ok: false; error: string; fault?: InfrastructureFault; kind?: ToolErrorKind };

/** A tool the model may call: what the API is told about it, and how it runs. */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON schema of the input, `{ type: 'object', ... }`; sent to the API as the tool's input_schema. */
  inputSchema: Readonly<Record<string, unknown>>;
  /**
   * Validates its own input; an invalid input is `{ ok: false, error }` with a message the model can act on.
   * `signal` is the invocation's: a tool's KTRDR requests, retries and backoffs end with it.
   */
  run(input: unknown, options?: { signal?: AbortSignal }): Promise<ToolOutcome>;
}

export function isToolUse(block: ContentBlock): block is ToolUseBlock {
  return block.type === 'tool_use';
}

/** Runs one call the model asked for; whatever the tool does (throws, returns nonsense), the outcome is a ToolOutcome. */
export async function runTool(toolsByName: ReadonlyMap<string, ToolDefinition>, call: ToolUseBlock, signal: AbortSignal): Promise<ToolOutcome> {
  const tool = toolsByName.get(call.name);
  if (tool === undefined) {
    return { ok: false, error: `Unknown tool "${call.name}". Available tools: ${[...toolsByName.keys()].join(', ')}.` };
  }
  try {
    const outcome: unknown = await tool.run(call.input, { signal });
    if (isToolOutcome(outcome)) return outcome;
    return { ok: false, error: `Tool "${call.name}" returned no valid outcome; this is a defect in the agent, not in the input.` };
  } catch (error) {
    if (isInfrastructureFault(error)) {
      return { ok: false, error: `Tool "${call.name}" could not run: ${error.fault.cause}`, fault: error.fault };
    }
    return { ok: false, error: `Tool "${call.name}" failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The outcome as the model reads it: a `tool_result` block, marked `is_error` when the call failed. */
export function toolResultBlock(toolUseId: string, outcome: ToolOutcome): ToolResultBlockParam {
  if (!outcome.ok) {
    return {
      type: 'tool_result',
      tool_use_id: toolUseId,
      content: outcome.error.trim() === '' ? 'The tool failed without saying why.' : outcome.error,
      is_error: true,
    };
  }
  return { type: 'tool_result', tool_use_id: toolUseId, content: renderToolContent(outcome.content) };
}

function isToolOutcome(value: unknown): value is ToolOutcome {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { ok?: unknown; error?: unknown };
  if (candidate.ok === true) return 'content' in candidate;
  return candidate.ok === false && typeof candidate.error === 'string';
}

function renderToolContent(content: unknown): string {
  if (typeof content === 'string') return content === '' ? '(empty result)' : content;
  if (content === undefined) return '(no result)';
  try {
    return JSON.stringify(content) ?? String(content);
  } catch {
    return String(content);
  }
}
