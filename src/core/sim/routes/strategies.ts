/** `POST /strategies/validate/{name}`: the findings of the agent's own validator, in KTRDR's report shape. */
import { builtinIndicatorRegistry } from '../../strategy/indicators.ts';
import { parseStrategyYaml, validateStrategy } from '../../strategy/index.ts';
import { detail, json, SIMULATOR_LABEL } from '../reply.ts';
import type { Reply } from '../reply.ts';
import { loadStrategy } from '../state.ts';
import { STRATEGY_NAME_PATTERN } from '../../strategy/schema.ts';
import type { SimContext } from '../state.ts';

export async function validateStrategyReply(ctx: SimContext, name: string): Promise<Reply> {
  const file = STRATEGY_NAME_PATTERN.test(name) ? await loadStrategy(ctx, name) : null;
  if (!file) return detail(404, `Strategy file not found: ${name}.yaml`);
  const parsed = parseStrategyYaml(file.text);
  const findings = parsed.ok
    ? validateStrategy(parsed.value, { expectedName: name, nameMismatch: 'warning' }).findings
    : [{ severity: 'error' as const, path: '', message: parsed.error }];
  const errors = findings.filter((finding) => finding.severity === 'error').length;
  return json(200, {
    success: true,
    valid: errors === 0,
    strategy_name: name,
    issues: findings.map((finding) => ({
      severity: finding.severity,
      category: parsed.ok ? finding.path.split(/[.[]/)[0] || 'structure' : 'syntax',
      message: finding.message,
      details: { path: finding.path },
    })),
    available_indicators: builtinIndicatorRegistry.typeNames(),
    message: errors === 0 ? `Strategy '${name}' is valid (${SIMULATOR_LABEL})` : `Strategy '${name}' has ${errors} error(s)`,
  });
}
