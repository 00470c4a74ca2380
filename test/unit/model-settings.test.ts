import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemPrompt } from '../../src/core/agent/context.ts';
import { ConfigError, loadConfig } from '../../src/core/config/load.ts';
import { modelWarnings, phaseEffort, phaseModel } from '../../src/core/config/model-checks.ts';
import { tempDir } from '../support/databases.ts';

const home = tempDir('ktrdr-agent-home-');

function load(env: Record<string, string>) {
  return loadConfig({ env: { HOME: home.path, ...env } });
}

function problems(env: Record<string, string>): { name: string; given: string; expected: string }[] {
  try {
    load(env);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    return error.problems;
  }
}

describe('model and effort per phase', () => {
  test('design runs on AGENT_MODEL unless its own setting is given; backtest and assess have their own defaults', () => {
    const settings = load({ AGENT_MODEL: 'claude-fable-5-1' }).settings;
    assert.equal(phaseModel(settings, 'design'), 'claude-fable-5-1');
    assert.equal(phaseModel(settings, 'backtest'), 'claude-haiku-5-5');
    assert.equal(phaseModel(settings, 'assess'), 'claude-haiku-5-5');
    assert.equal(phaseModel(load({ AGENT_MODEL_DESIGN: 'claude-opus-5' }).settings, 'design'), 'claude-opus-5');
    assert.deepEqual(
      (['design', 'backtest', 'assess'] as const).map((phase) => phaseEffort(settings, phase)),
      ['medium', 'low', 'medium'],
    );
  });

  test('an effort outside low..max is a configuration error', () => {
    assert.deepEqual(
      problems({ AGENT_EFFORT_ASSESS: 'extreme' }).map((p) => p.name),
      ['AGENT_EFFORT_ASSESS'],
    );
  });

  test('a retired model is a configuration error (exit 2) that names its replacement', () => {
    const [problem, ...rest] = problems({ AGENT_MODEL: 'claude-sonnet-4-5-20250929' });
    assert.deepEqual(rest, []);
    assert.equal(problem?.name, 'AGENT_MODEL');
    assert.match(problem!.expected, /retired on 2026-11-30.*"claude-sonnet-5-5"/);
    assert.equal(problems({ AGENT_MODEL_BACKTEST: 'claude-sonnet-4-5' })[0]?.name, 'AGENT_MODEL_BACKTEST');
  });

  test('AGENT_MAX_TOKENS above a phase model output limit is a configuration error', () => {
    const [problem] = problems({ AGENT_MODEL_BACKTEST: 'claude-haiku-4-5', AGENT_MAX_TOKENS: '100000' });
    assert.equal(problem?.name, 'AGENT_MAX_TOKENS');
    assert.match(problem!.expected, /64000-token output limit of claude-haiku-4-5 \(AGENT_MODEL_BACKTEST\)/);
    assert.deepEqual(problems({ AGENT_MAX_TOKENS: '100000' }), []);
  });

  test('a deprecated model loads, with a warning naming its retirement date and replacement', () => {
    const settings = load({ AGENT_MODEL: 'claude-opus-4-5', AGENT_MAX_TOKENS: '16000' }).settings;
    const warnings = modelWarnings(settings);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^AGENT_MODEL: model "claude-opus-4-5" is deprecated and retires on 2027-01-22.*"claude-opus-5-5"/);
    assert.deepEqual(modelWarnings(load({}).settings), []);
  });
});

describe('system prompt', () => {
  test('asks for no "## Status" section: the loop ends before anyone reads it, and it is paid output', () => {
    assert.doesNotMatch(systemPrompt(), /## Status|Output format/);
  });
});
