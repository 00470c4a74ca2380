import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { closedPort } from '../support/ports.ts';
import { startEngineRig } from '../support/scripted-model.ts';

interface TriggerJson {
  status: string;
  exitCode: number;
  error?: { code: string; exitCode: number };
}

/** `trigger --json` is one document whose status and exitCode are the ones the process exits with. */
async function triggerJson(env: Record<string, string>): Promise<{ code: number | null; json: TriggerJson; stderr: string }> {
  const result = await runCli(['trigger', '--json'], env);
  assert.doesNotThrow(() => JSON.parse(result.stdout), `not one JSON document: ${result.stdout}\n${result.stderr}`);
  return { code: result.code, json: JSON.parse(result.stdout) as TriggerJson, stderr: result.stderr };
}

describe('trigger --json carries the status and exit code of the pass (built CLI)', () => {
  test('healthy: ok, 0; KTRDR down: degraded, 5', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    const healthy = await triggerJson(rig.env);
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.deepEqual([healthy.json.status, healthy.json.exitCode], ['ok', 0]);

    const down = await triggerJson({ ...rig.env, KTRDR_API_URL: `http://127.0.0.1:${await closedPort()}/api/v1`, AGENT_RETRY_MAX_ATTEMPTS: '1' });
    assert.equal(down.code, 5, down.stderr);
    assert.deepEqual([down.json.status, down.json.exitCode], ['degraded', 5]);
  });

  test('Anthropic unreachable: degraded, 5', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', frozenClock: true });
    t.after(() => rig.close());
    const result = await triggerJson({ ...rig.env, ANTHROPIC_BASE_URL: `http://127.0.0.1:${await closedPort()}`, AGENT_RETRY_MAX_ATTEMPTS: '1' });
    assert.equal(result.code, 5, result.stderr);
    assert.deepEqual([result.json.status, result.json.exitCode], ['degraded', 5]);
  });

  test('the budget spent: budget_exceeded, 3', async (t) => {
    const rig = await startEngineRig({ designer: 'claude', frozenClock: true });
    t.after(() => rig.close());
    // A limit no larger than the buffer leaves nothing to spend: the design that is due is not invoked.
    const set = await runCli(['budget', 'set', '0.10', '--force'], rig.env);
    assert.equal(set.code, 0, set.stderr);
    const result = await triggerJson(rig.env);
    assert.equal(result.code, 3, result.stderr);
    assert.deepEqual([result.json.status, result.json.exitCode, result.json.error?.code], ['budget_exceeded', 3, 'budget_exceeded']);
    assert.equal(rig.fake.requests.length, 0);
  });
});
