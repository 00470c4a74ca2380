import { PRICE_TABLE, RetiredModelError, UnknownModelPriceError, deprecationWarning, maxTokensProblem, priceFor, type ModelPrice } from '../budget/pricing.ts';
import type { InvocationPurpose } from '../session/model.ts';
import type { Effort, Settings } from './schema.ts';

const PHASE_MODEL_SETTING = {
  design: 'AGENT_MODEL_DESIGN',
  backtest: 'AGENT_MODEL_BACKTEST',
  assess: 'AGENT_MODEL_ASSESS',
} as const satisfies Record<InvocationPurpose, keyof Settings>;

const PHASE_EFFORT_SETTING = {
  design: 'AGENT_EFFORT_DESIGN',
  backtest: 'AGENT_EFFORT_BACKTEST',
  assess: 'AGENT_EFFORT_ASSESS',
} as const satisfies Record<InvocationPurpose, keyof Settings>;

const PHASES = ['design', 'backtest', 'assess'] as const satisfies readonly InvocationPurpose[];

type ModelSettings = Pick<
  Settings,
  'AGENT_MODEL' | 'AGENT_MODEL_PRICES' | 'AGENT_MAX_TOKENS' | (typeof PHASE_MODEL_SETTING)[InvocationPurpose] | (typeof PHASE_EFFORT_SETTING)[InvocationPurpose]
>;

/** The model a phase runs on: its own setting, or AGENT_MODEL for the design phase when that is unset. */
export function phaseModel(settings: ModelSettings, phase: InvocationPurpose): string {
  return settings[PHASE_MODEL_SETTING[phase]] ?? settings.AGENT_MODEL;
}

export function phaseEffort(settings: ModelSettings, phase: InvocationPurpose): Effort {
  return settings[PHASE_EFFORT_SETTING[phase]];
}

/** Each distinct model the settings use, with the settings that chose it. */
function modelsInUse(settings: ModelSettings): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  for (const phase of PHASES) {
    const model = phaseModel(settings, phase);
    const setting = settings[PHASE_MODEL_SETTING[phase]] === undefined ? 'AGENT_MODEL' : PHASE_MODEL_SETTING[phase];
    uses.set(model, [...new Set([...(uses.get(model) ?? []), setting])]);
  }
  return uses;
}

/**
 * Configuration errors of the models the phases use: no known price, retired (its requests fail), or an
 * AGENT_MAX_TOKENS above the model's output limit.
 */
export function modelProblems(settings: ModelSettings): { name: string; given: string; expected: string }[] {
  const problems: { name: string; given: string; expected: string }[] = [];
  for (const [model, names] of modelsInUse(settings)) {
    let price: ModelPrice;
    try {
      price = priceFor(model, settings.AGENT_MODEL_PRICES);
    } catch (error) {
      if (error instanceof RetiredModelError) {
        problems.push({
          name: names[0]!,
          given: JSON.stringify(model),
          expected: `an active model: ${error.message}`,
        });
        continue;
      }
      if (!(error instanceof UnknownModelPriceError)) throw error;
      problems.push({
        name: names[0]!,
        given: JSON.stringify(model),
        expected: `a model with a known price (${[...PRICE_TABLE.values()]
          .filter((p) => p.lifecycle !== 'retired')
          .map((p) => p.model)
          .join(', ')}), or set its price in AGENT_MODEL_PRICES`,
      });
      continue;
    }
    const tooMany = maxTokensProblem(price, settings.AGENT_MAX_TOKENS);
    if (tooMany !== null) {
      problems.push({
        name: 'AGENT_MAX_TOKENS',
        given: String(settings.AGENT_MAX_TOKENS),
        expected: `at most the model's output limit: ${tooMany} (${names.join(', ')})`,
      });
    }
  }
  return problems;
}

/** Warnings for deprecated models in use (still answering, retiring soon), for `config`, `doctor` and the tick log. */
export function modelWarnings(settings: ModelSettings): string[] {
  const warnings: string[] = [];
  for (const [model, names] of modelsInUse(settings)) {
    try {
      const warning = deprecationWarning(priceFor(model, settings.AGENT_MODEL_PRICES));
      if (warning !== null) warnings.push(`${names.join(', ')}: ${warning}`);
    } catch {
      // Unknown and retired models are configuration errors, reported by modelProblems.
    }
  }
  return warnings;
}
