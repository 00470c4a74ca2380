import { homedir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { parsePriceOverrides } from '../budget/pricing.ts';
import { parseDecimal } from './decimal.ts';

/** Reads a boolean the way people write it in env files. */
const booleanWords = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'] as const;
const booleanSetting = z.pipe(
  z.enum(booleanWords, { error: 'expected true or false' }),
  z.transform((value: (typeof booleanWords)[number]): boolean => ['true', '1', 'yes', 'on'].includes(value)),
);

// zod/mini rather than the classic API: this schema loads on every cron tick, and mini loads in a third of the time.
const number = (options: { min?: number; max?: number; int?: boolean; expected: string }) => {
  const error = `expected ${options.expected}`;
  const checks = [
    ...(options.int ? [z.refine<number>((value) => Number.isInteger(value), { error })] : []),
    ...(options.min !== undefined ? [z.gte(options.min, { error })] : []),
    ...(options.max !== undefined ? [z.lte(options.max, { error })] : []),
  ];
  return z
    .pipe(
      z.string({ error }).check(z.refine((text: string) => parseDecimal(text) !== null, { error })),
      z.transform((text: string) => parseDecimal(text)!),
    )
    .check(...checks);
};

/** `output_config.effort`; on Opus 5.5 and Fable 5.x it steers thinking, which cannot be turned off. */
export const efforts = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type Effort = (typeof efforts)[number];
const effort = z.enum(efforts, { error: 'expected low, medium, high, xhigh or max' });

const batchPhaseWords = ['design', 'backtest', 'assess'] as const;
/** A comma-separated list of phases (empty = none), each at most once. */
const batchPhases = z.pipe(
  z.string().check(
    z.refine(
      (text: string) =>
        text
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part !== '')
          .every((part) => (batchPhaseWords as readonly string[]).includes(part)),
      { error: 'expected a comma-separated list of design, backtest, assess (or empty for none)' },
    ),
  ),
  z.transform(
    (text: string) =>
      [
        ...new Set(
          text
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== ''),
        ),
      ] as (typeof batchPhaseWords)[number][],
  ),
);

const sessionLimitExpected = "expected 'auto' or an integer from 1 to 1000";
/** `auto` (sized by KTRDR's idle training workers) or a fixed number of sessions. */
const sessionLimit = z.pipe(
  z.string({ error: sessionLimitExpected }).check(
    z.refine(
      (text: string) => {
        if (text.trim() === 'auto') return true;
        const value = parseDecimal(text);
        return value !== null && Number.isInteger(value) && value >= 1 && value <= 1000;
      },
      { error: sessionLimitExpected },
    ),
  ),
  z.transform((text: string): number | 'auto' => (text.trim() === 'auto' ? 'auto' : parseDecimal(text)!)),
);

const fraction = number({ min: 0, max: 1, expected: 'a fraction between 0 and 1 (0.45 means 45%)' });

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

const postgresUrl = z.string().check(z.regex(/^postgres(ql)?:\/\//, { error: 'expected a postgres:// or postgresql:// connection URL' }));

const modelPriceOverrides = z.string().check(
  z.superRefine((text: string, context) => {
    try {
      parsePriceOverrides(text);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `${(error as Error).message}; expected {"model":{"input":USD,"output":USD,"cacheWrite"?:USD,"cacheRead"?:USD}} per million tokens`,
      });
    }
  }),
);

/** Where each setting comes from when not given: derived from the user's home and XDG variables. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'ktrdr-agent');
}

export function defaultConfigDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'ktrdr-agent');
}

/**
 * Every setting: its variable name, default and validation. The single source of truth: the README's table,
 * `ktrdr-agent config` and the loader all read this.
 */
export const settingDefinitions = {
  DATABASE_URL: { schema: z.optional(postgresUrl), description: 'PostgreSQL URL; unset = embedded PGlite in the data dir' },
  KTRDR_AGENT_DATA_DIR: { schema: z.optional(z.string().check(z.minLength(1))), description: 'Data directory (PGlite database, default strategies dir)' },
  KTRDR_API_URL: { schema: z._default(httpUrl, 'http://127.0.0.1:8000/api/v1'), description: 'KTRDR REST API base URL' },
  KTRDR_STRATEGIES_DIR: { schema: z.optional(z.string().check(z.minLength(1))), description: "KTRDR's strategies directory (default <data dir>/strategies)" },
  KTRDR_TIMEOUT_SECONDS: {
    schema: z._default(number({ min: 0.1, max: 600, expected: 'seconds between 0.1 and 600' }), 15),
    description: 'Timeout of one KTRDR HTTP request',
  },
  KTRDR_MAX_RESPONSE_MIB: {
    schema: z._default(number({ min: 0.01, max: 1024, expected: 'MiB between 0.01 and 1024' }), 8),
    description: 'Largest KTRDR response body read; a larger one is a KTRDR fault',
  },
  ANTHROPIC_API_KEY: { schema: z.optional(z.string().check(z.minLength(1))), secret: true, description: 'Anthropic API key (needed by the claude designer)' },
  ANTHROPIC_BASE_URL: { schema: z.optional(httpUrl), description: 'Anthropic API base URL (read by the SDK)' },
  AGENT_MODEL: {
    schema: z._default(z.string().check(z.minLength(1)), 'claude-opus-5-5'),
    description: 'Claude model for design (and any phase whose model setting is empty)',
  },
  AGENT_MODEL_DESIGN: { schema: z.optional(z.string().check(z.minLength(1))), description: 'Model of the design phase; unset = AGENT_MODEL' },
  AGENT_MODEL_BACKTEST: {
    schema: z._default(z.string().check(z.minLength(1)), 'claude-haiku-5-5'),
    description: 'Model of the backtest phase (choosing dates: one mechanical call); set it to AGENT_MODEL to use one model',
  },
  AGENT_MODEL_ASSESS: {
    schema: z._default(z.string().check(z.minLength(1)), 'claude-haiku-5-5'),
    description: 'Model of the assessment phase (a verdict and its reasons from the gate figures); set it to AGENT_MODEL to use one model',
  },
  AGENT_EFFORT_DESIGN: { schema: z._default(effort, 'medium'), description: 'output_config.effort of the design phase (low|medium|high|xhigh|max)' },
  AGENT_EFFORT_BACKTEST: { schema: z._default(effort, 'low'), description: 'output_config.effort of the backtest phase' },
  AGENT_EFFORT_ASSESS: { schema: z._default(effort, 'medium'), description: 'output_config.effort of the assessment phase' },
  AGENT_INFERENCE_GEO: {
    schema: z.optional(z.enum(['us', 'global'], { error: 'expected us or global' })),
    description: 'inference_geo sent with each call; unset = the workspace default, reserved at the 1.1x US rate',
  },
  AGENT_MODEL_PRICES: { schema: z.optional(modelPriceOverrides), description: 'JSON price overrides per model, USD per million tokens' },
  AGENT_DESIGNER: {
    schema: z._default(z.enum(['claude', 'baseline', 'evolve'], { error: 'expected claude, baseline or evolve' }), 'claude'),
    description: 'claude (LLM), baseline (no LLM, random) or evolve (no LLM, mutates the best experiments)',
  },
  AGENT_MAX_CONCURRENT_SESSIONS: {
    schema: z._default(sessionLimit, 'auto'),
    description:
      "Research sessions active at once: an integer, or 'auto' (a new cycle while KTRDR reports an idle training worker, within AGENT_MAX_SESSIONS_CAP and the budget)",
  },
  AGENT_MAX_SESSIONS_CAP: {
    schema: z._default(number({ min: 1, max: 1000, int: true, expected: 'an integer from 1 to 1000' }), 8),
    description: 'Most research sessions active at once under AGENT_MAX_CONCURRENT_SESSIONS=auto',
  },
  AGENT_PASS_FOLLOW_SECONDS: {
    schema: z._default(number({ min: 0, max: 240, expected: 'seconds between 0 and 240 (0 turns following off)' }), 150),
    description:
      'How long a pass keeps polling work KTRDR expects to finish within it (a backtest, a training by its pace) to take the next step in the same pass; 0 = off',
  },
  AGENT_RECENT_STRATEGIES_COUNT: {
    schema: z._default(number({ min: 0, max: 50, int: true, expected: 'an integer from 0 to 50' }), 5),
    description: 'Recent strategies shown to the designer',
  },
  AGENT_NEAR_DUPLICATE_TOLERANCE: {
    schema: z._default(fraction, 0.1),
    description:
      'A design whose indicators, labels and network match an earlier experiment and whose numbers are all within this fraction of its numbers is a near-copy: refused when the cycle explores (docs/search.md)',
  },
  AGENT_MEMORY_TOKEN_BUDGET: {
    schema: z._default(number({ min: 200, max: 20000, int: true, expected: 'an integer from 200 to 20000' }), 1500),
    description: 'Tokens (estimated) of the research memory shown to the designer',
  },
  AGENT_MAX_TURNS: {
    schema: z._default(number({ min: 1, max: 100, int: true, expected: 'an integer from 1 to 100' }), 12),
    description: 'Model turns per invocation',
  },
  AGENT_MAX_TOKENS: {
    schema: z._default(number({ min: 256, max: 128000, int: true, expected: 'an integer from 256 to 128000' }), 16000),
    description: "max_tokens per model response, thinking included; checked against each phase model's output limit",
  },
  AGENT_INVOCATION_TIMEOUT_SECONDS: {
    schema: z._default(number({ min: 5, max: 3600, expected: 'seconds between 5 and 3600' }), 300),
    description: 'Wall time of one invocation',
  },
  AGENT_BATCH_PHASES: {
    schema: z._default(batchPhases, []),
    description: "Phases whose first model call goes out as a Message Batch (50% price, collected on a later tick), e.g. 'backtest,assess'; empty = none",
  },
  AGENT_PROMPT_CACHING: { schema: z._default(booleanSetting, true), description: 'Mark prompt prefixes for caching' },
  AGENT_BUDGET_DAILY_USD: {
    schema: z._default(number({ min: 0, max: 100000, expected: 'a dollar amount >= 0' }), 5),
    description: 'Daily LLM budget (UTC day); `budget set` overrides it',
  },
  AGENT_BUDGET_BUFFER_USD: {
    schema: z._default(number({ min: 0, max: 100000, expected: 'a dollar amount >= 0' }), 0.1),
    description: 'Part of the budget never spent',
  },
  AGENT_BUDGET_ENFORCEMENT: { schema: z._default(booleanSetting, true), description: 'Enforce the daily budget' },
  GATE_TRAINING_MIN_ACCURACY: { schema: z._default(fraction, 0.1), description: 'Training gate: minimum test accuracy (classification)' },
  GATE_TRAINING_MAX_LOSS: {
    schema: z._default(number({ min: 0, expected: 'a loss value >= 0' }), 0.8),
    description: 'Training gate: maximum test loss (final training loss when KTRDR reports no test loss)',
  },
  GATE_TRAINING_MIN_LOSS_REDUCTION: {
    schema: z._default(number({ min: -1, max: 1, expected: 'a fraction between -1 and 1' }), -0.5),
    description: 'Training gate: minimum training loss reduction (classification)',
  },
  GATE_TRAINING_MIN_DIRECTIONAL_ACCURACY: { schema: z._default(fraction, 0.51), description: 'Training gate: minimum directional accuracy (regression)' },
  // KTRDR's default (kpiteira/ktrdr ktrdr/agents/gates.py BacktestGateConfig.min_win_rate = 0.10): the win rate only
  // catches a broken backtest; whether a strategy earns is the Sharpe ratio's and the drawdown's to say.
  GATE_BACKTEST_MIN_WIN_RATE: { schema: z._default(fraction, 0.1), description: 'Backtest gate: minimum win rate' },
  GATE_BACKTEST_MAX_DRAWDOWN: { schema: z._default(fraction, 0.4), description: 'Backtest gate: maximum drawdown' },
  GATE_BACKTEST_MIN_SHARPE: {
    schema: z._default(number({ min: -100, max: 100, expected: 'a Sharpe ratio between -100 and 100' }), -0.5),
    description: 'Backtest gate: minimum Sharpe ratio',
  },
  GATE_BACKTEST_MIN_DSR: { schema: z.optional(fraction), description: 'Backtest gate: minimum deflated Sharpe ratio (unset = not checked)' },
  AGENT_LOCKBOX_MONTHS: {
    schema: z._default(number({ min: 1, max: 120, int: true, expected: 'an integer number of months from 1 to 120' }), 12),
    description: 'Most recent months of each symbol and timeframe held back from every designer (the lockbox), fixed when first needed',
  },
  AGENT_PROMOTION_MIN_DSR: {
    schema: z._default(fraction, 0.95),
    description: 'Promotion: a two-gate session is a candidate when its deflated Sharpe over every trial of its family so far is at least this',
  },
  AGENT_PROMOTION_ROBUSTNESS_WINDOWS: {
    schema: z._default(number({ min: 1, max: 10, int: true, expected: 'an integer from 1 to 10' }), 2),
    description: 'Promotion: further backtests of a candidate on search-period windows that avoid its training window',
  },
  AGENT_PROMOTION_MIN_LOCKBOX_PSR: {
    schema: z._default(fraction, 0.9),
    description: 'Promotion: minimum probabilistic Sharpe ratio (against 0) of the lockbox backtest',
  },
  AGENT_VALIDATION_CONCURRENCY: {
    schema: z._default(number({ min: 1, max: 64, int: true, expected: 'an integer from 1 to 64' }), 2),
    description: 'Promotion backtests in flight at once (beside research sessions, not in their slots)',
  },
  AGENT_RETRY_MAX_ATTEMPTS: {
    schema: z._default(number({ min: 1, max: 10, int: true, expected: 'an integer from 1 to 10' }), 3),
    description: 'HTTP attempts per retryable KTRDR or Anthropic call, the first included (3 = up to 2 retries); each Anthropic attempt is reserved on its own',
  },
  AGENT_FAULT_BACKOFF_MINUTES: {
    schema: z._default(number({ min: 0, max: 60, expected: 'minutes between 0 and 60' }), 5),
    description: 'Wait after the second fault of the world in a row before invoking again; it doubles per fault, to at most 12 times this',
  },
  AGENT_RETRY_BACKOFF_BASE: {
    schema: z._default(number({ min: 0, max: 60, expected: 'seconds between 0 and 60' }), 2),
    description: 'Exponential backoff base, seconds',
  },
  AGENT_RESUME_MAX_ATTEMPTS: {
    schema: z._default(number({ min: 0, max: 10, int: true, expected: 'an integer from 0 to 10' }), 2),
    description: 'Resumes of a failed operation, and fresh starts of a stalled one, per session',
  },
  AGENT_STALL_QUEUED_MINUTES: {
    schema: z._default(number({ min: 1, max: 10080, expected: 'minutes between 1 and 10080' }), 20),
    description: "An operation 'pending' this long with no worker taking it: cancelled and started afresh",
  },
  AGENT_STALL_RESUMING_MINUTES: {
    schema: z._default(number({ min: 1, max: 10080, expected: 'minutes between 1 and 10080' }), 10),
    description: "An operation still 'resuming' after this long: cancelled and started afresh",
  },
  AGENT_STALL_ZERO_PROGRESS_MINUTES: {
    schema: z._default(number({ min: 1, max: 10080, expected: 'minutes between 1 and 10080' }), 10),
    description: "An operation 'running' at 0% this long: cancelled and started afresh",
  },
  AGENT_STALL_TIMEOUT_MINUTES: {
    schema: z._default(number({ min: 1, max: 10080, expected: 'minutes between 1 and 10080' }), 60),
    description: "An operation 'running' with unchanged progress this long: cancelled and started afresh",
  },
  AGENT_LEASE_SECONDS: {
    schema: z._default(number({ min: 10, max: 86400, expected: 'seconds between 10 and 86400' }), 900),
    description: 'Lease of a running invocation (longer than its timeout)',
  },
  AGENT_POLL_CONCURRENCY: {
    schema: z._default(number({ min: 1, max: 256, int: true, expected: 'an integer from 1 to 256' }), 16),
    description: 'KTRDR polls in flight during a pass',
  },
  AGENT_LOCK_WAIT_SECONDS: {
    schema: z._default(number({ min: 0, max: 600, expected: 'seconds between 0 and 600' }), 30),
    description: 'How long a command waits for the embedded database',
  },
  AGENT_RETENTION_DAYS: {
    schema: z._default(number({ min: 0, max: 36500, int: true, expected: 'whole days from 0 to 36500' }), 90),
    description:
      'Trigger rows and tick summaries older than this are deleted at the end of each pass (0 = keep them all); never sessions, experiments, hypotheses or budget rows',
  },
  AGENT_LOG_MAX_MIB: {
    schema: z._default(number({ min: 0, max: 10240, expected: 'MiB between 0 and 10240' }), 10),
    description: "The tick log a tick appends to (`schedule --cron`'s `>>`) is rotated at this size (0 = never)",
  },
  AGENT_LOG_KEEP: {
    schema: z._default(number({ min: 1, max: 100, int: true, expected: 'an integer from 1 to 100' }), 5),
    description: 'Rotated tick logs kept (tick.log.1 .. tick.log.N)',
  },
  PUSHGATEWAY_URL: { schema: z.optional(httpUrl), description: 'Prometheus Pushgateway to push metrics to after each tick' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { schema: z.optional(httpUrl), description: 'OTLP/HTTP endpoint for traces' },
} as const;

export type SettingName = keyof typeof settingDefinitions;
export const settingNames = Object.keys(settingDefinitions) as SettingName[];

type Definitions = typeof settingDefinitions;
export type Settings = { [K in SettingName]: z.output<Definitions[K]['schema']> };

export function isSecretSetting(name: SettingName): boolean {
  return 'secret' in settingDefinitions[name] && settingDefinitions[name].secret === true;
}
