import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import { runTool, toolResultBlock, type ToolDefinition } from '../../src/core/agent/tool-dispatch.ts';
import { InfrastructureFaultError } from '../../src/core/kernel/faults.ts';

function tool(name: string, run: ToolDefinition['run']): ToolDefinition {
  return { name, description: name, inputSchema: { type: 'object' }, run };
}

const call = (name: string, input: unknown = {}): ToolUseBlock =>
  ({ type: 'tool_use', id: `toolu_${name}`, name, input, caller: { type: 'direct' } }) as ToolUseBlock;

describe('tool dispatch: whatever a tool does, the model gets an outcome', () => {
  const seenSignals: (AbortSignal | undefined)[] = [];
  const tools = new Map(
    [
      tool('echo', async (input, options) => {
        seenSignals.push(options?.signal);
        return { ok: true, content: input };
      }),
      tool('throws', async () => {
        throw new Error('disk on fire');
      }),
      tool('faults', async () => {
        throw new InfrastructureFaultError('strategies_dir', 'the strategies directory is full');
      }),
      tool('nonsense', async () => ({ fine: true }) as never),
    ].map((t) => [t.name, t]),
  );
  const signal = new AbortController().signal;

  test("a tool runs with the invocation's signal and its content comes back as JSON", async () => {
    const outcome = await runTool(tools, call('echo', { n: 1 }), signal);
    assert.deepEqual(outcome, { ok: true, content: { n: 1 } });
    assert.equal(seenSignals.at(-1), signal);
    assert.deepEqual(toolResultBlock('toolu_1', outcome), { type: 'tool_result', tool_use_id: 'toolu_1', content: '{"n":1}' });
  });

  test('an unknown tool names the ones there are', async () => {
    const outcome = await runTool(tools, call('nope'), signal);
    assert.equal(outcome.ok, false);
    assert.match(outcome.ok ? '' : outcome.error, /Unknown tool "nope"\. Available tools: echo, throws, faults, nonsense\./);
  });

  test('a thrown error is a failed call; a thrown fault of the world keeps its fault', async () => {
    const thrown = await runTool(tools, call('throws'), signal);
    assert.deepEqual(thrown, { ok: false, error: 'Tool "throws" failed: disk on fire' });
    const faulted = await runTool(tools, call('faults'), signal);
    assert.equal(faulted.ok, false);
    assert.deepEqual(faulted.ok ? null : faulted.fault, { faultClass: 'strategies_dir', cause: 'the strategies directory is full' });
  });

  test('an outcome of the wrong shape is a defect, and failures reach the model marked is_error', async () => {
    const outcome = await runTool(tools, call('nonsense'), signal);
    assert.equal(outcome.ok, false);
    const block = toolResultBlock('toolu_2', outcome);
    assert.equal(block.is_error, true);
    assert.match(String(block.content), /returned no valid outcome; this is a defect in the agent/);
    assert.equal(toolResultBlock('toolu_3', { ok: false, error: '  ' }).content, 'The tool failed without saying why.');
    assert.equal(toolResultBlock('toolu_4', { ok: true, content: '' }).content, '(empty result)');
  });
});
