import type { StrategyValidation } from '../ktrdr/schemas.ts';
import type { StrategyFinding } from '../strategy/validate.ts';

export interface StrategyFileReport {
  file: string;
  valid: boolean;
  findings: StrategyFinding[];
}

/**
 * `strategy validate --online` for a file KTRDR can see: KTRDR's verdict comes first and decides validity; ours
 * follows as extra findings. Where KTRDR says valid, ours may only warn: an error of ours is shown as a warning
 * saying this agent would refuse to save it (its tools refuse what KTRDR's training would fail on hours later), so
 * the operator sees both and KTRDR keeps the last word on its own strategies.
 */
export function withKtrdrVerdict(ours: StrategyFileReport, ktrdr: StrategyValidation): StrategyFileReport {
  const ktrdrFindings: StrategyFinding[] = (ktrdr.issues ?? []).map((issue) => ({
    severity: issue.severity === 'error' ? 'error' : 'warning',
    path: `(ktrdr) ${issue.category ?? ''}`.trim(),
    message: issue.message,
  }));
  const ktrdrValid = ktrdr.valid === true && !ktrdrFindings.some((finding) => finding.severity === 'error');
  const verdict: StrategyFinding = {
    severity: ktrdrValid ? 'warning' : 'error',
    path: '(ktrdr)',
    message: ktrdr.message ?? (ktrdrValid ? 'KTRDR says the strategy is valid' : 'KTRDR says the strategy is invalid'),
  };
  const ourFindings = ours.findings.map(
    (finding): StrategyFinding =>
      ktrdrValid && finding.severity === 'error'
        ? { severity: 'warning', path: finding.path, message: `${finding.message} (KTRDR's validate accepts this; ktrdr-agent would refuse to save it)` }
        : finding,
  );
  // KTRDR's own verdict line only when it has something to say beyond "valid".
  const head = ktrdrValid && ktrdrFindings.length === 0 ? [] : [verdict];
  return { file: ours.file, valid: ktrdrValid, findings: [...head, ...ktrdrFindings, ...ourFindings] };
}
