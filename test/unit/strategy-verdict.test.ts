import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withKtrdrVerdict } from '../../src/core/cli/strategy-verdict.ts';

const ours = {
  file: 'strategies/probe.yaml',
  valid: false,
  findings: [
    { severity: 'error' as const, path: 'indicators.x.type', message: "unknown indicator type 'nope'" },
    { severity: 'warning' as const, path: 'training.validation_split', message: 'KTRDR does not read this key; it has no effect' },
  ],
};

describe('strategy validate --online: KTRDR first, ours as extra findings', () => {
  test('KTRDR says valid: the file is valid and our errors become warnings that say so', () => {
    const report = withKtrdrVerdict(ours, { valid: true, issues: [], message: "Strategy 'probe' is valid" });
    assert.equal(report.valid, true);
    assert.deepEqual(
      report.findings.map((f) => [f.severity, f.path]),
      [
        ['warning', 'indicators.x.type'],
        ['warning', 'training.validation_split'],
      ],
    );
    assert.match(report.findings[0]!.message, /KTRDR's validate accepts this; ktrdr-agent would refuse to save it/);
  });

  test('KTRDR says invalid: its verdict and issues come first, and the file is invalid even when ours found nothing', () => {
    const report = withKtrdrVerdict(
      { file: ours.file, valid: true, findings: [] },
      {
        valid: false,
        issues: [{ severity: 'error', category: 'structure', message: 'Missing required field: model' }],
        message: "Strategy 'probe' has 1 error(s)",
      },
    );
    assert.equal(report.valid, false);
    assert.deepEqual(
      report.findings.map((f) => [f.severity, f.path, f.message]),
      [
        ['error', '(ktrdr)', "Strategy 'probe' has 1 error(s)"],
        ['error', '(ktrdr) structure', 'Missing required field: model'],
      ],
    );
  });
});
