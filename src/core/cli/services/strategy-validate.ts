// `strategy validate`: our checks on each file and, online, KTRDR's registry and its verdict on the files it can see.
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import type { AgentConfig } from '../../config/load.ts';
import { noopTracer } from '../../kernel/tracer.ts';
import { createKtrdrClient } from '../../ktrdr/create-client.ts';
import { builtinIndicatorRegistry, mergeKtrdrIndicators, parseStrategyYaml, validateStrategy, type IndicatorRegistry } from '../../strategy/index.ts';
import { withKtrdrVerdict, type StrategyFileReport } from '../strategy-verdict.ts';

export interface StrategyValidateResult {
  valid: boolean;
  files: StrategyFileReport[];
}

/** Checks each file; with `online` (the settings naming KTRDR) KTRDR's registry is used and its verdict decides. */
export async function validateStrategyFiles(files: string[], online: AgentConfig | null): Promise<StrategyValidateResult> {
  let registry: IndicatorRegistry = builtinIndicatorRegistry;
  let ktrdrSide: { ktrdr: ReturnType<typeof createKtrdrClient>; strategiesDir: string } | null = null;
  if (online) {
    const ktrdr = createKtrdrClient(online, noopTracer);
    registry = mergeKtrdrIndicators(builtinIndicatorRegistry, { data: await ktrdr.listIndicators() });
    ktrdrSide = { ktrdr, strategiesDir: realpathSync(online.strategiesDir) };
  }
  const reports: StrategyFileReport[] = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      return { file, valid: false, findings: [{ severity: 'error', path: '(file)', message: (error as Error).message }] };
    }
    const parsed = parseStrategyYaml(text);
    if (!parsed.ok) return { file, valid: false, findings: [{ severity: 'error', path: '(yaml)', message: parsed.error }] };
    const result = validateStrategy(parsed.value, { registry, expectedName: basename(file, extname(file)), nameMismatch: 'warning' });
    return { file, valid: result.valid, findings: result.findings };
  });
  if (ktrdrSide) {
    // KTRDR validates by name a file in its own strategies directory: its verdict comes first and decides; other
    // files get our checks only.
    for (const [index, report] of reports.entries()) {
      const name = basename(report.file, extname(report.file));
      if (dirname(realpathSync(report.file)) !== ktrdrSide.strategiesDir) {
        report.findings.push({
          severity: 'warning',
          path: '(ktrdr)',
          message: `not in KTRDR's strategies directory (${ktrdrSide.strategiesDir}), so KTRDR cannot validate it`,
        });
        continue;
      }
      reports[index] = withKtrdrVerdict(report, await ktrdrSide.ktrdr.validateStrategy(name));
    }
  }
  return { valid: reports.every((r) => r.valid), files: reports };
}
