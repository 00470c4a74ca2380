import { paint } from '../format.ts';
import type { DoctorReport } from '../services/doctor.ts';
import type { TextOptions } from './status-text.ts';

export function renderDoctorText(report: DoctorReport, options: TextOptions): string {
  const { color } = options;
  const lines: string[] = [];
  for (const check of report.checks) {
    // An optional part that is not configured is neither passed nor failed: it gets a dash, not a tick.
    const mark = check.optional ? paint('–', 'gray', color) : check.ok ? paint('✓', 'green', color) : paint('✗', 'red', color);
    lines.push(`${mark} ${check.name}: ${check.detail}`);
    if (!check.ok && check.fix) lines.push(`    fix: ${check.fix}`);
  }
  lines.push(report.exitCode === 0 ? '\nEverything looks right.' : '\nSomething needs fixing (see above).');
  return lines.join('\n');
}
