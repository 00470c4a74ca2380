import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phaseOperationId, sessionPhases } from '../../src/core/session/model.ts';

test('the operation a phase waits on: training in training, backtest in backtesting, none in any other phase', () => {
  const ids = { trainingOperationId: 'op_train', backtestOperationId: 'op_backtest' };
  const byPhase = Object.fromEntries(sessionPhases.map((phase) => [phase, phaseOperationId({ phase, ...ids })]));
  assert.deepEqual(byPhase, { idle: null, designing: null, training: 'op_train', backtesting: 'op_backtest', assessing: null });
  assert.equal(phaseOperationId({ phase: 'training', trainingOperationId: null, backtestOperationId: 'op_backtest' }), null);
});
