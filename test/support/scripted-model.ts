import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { runCli, type CliResult } from './cli.ts';
import { createTestDatabase, tempDir } from './databases.ts';
import { startFakeAnthropic } from './fake-anthropic.ts';
import type { FakeAnthropic, RecordedRequest, ScriptReaction, ScriptedResponse, WireBlock, WireMessage } from './fake-anthropic.ts';
import { text, thinking, toolUse } from './fake-anthropic.ts';

/** Ways the scripted model misbehaves, each the kind of mistake a real model makes. */
export interface ScriptedModelOptions {
  /** Sends an invalid config to save_strategy_config this many times before the valid one. */
  invalidYamlFirst?: number;
  /** The design ends with text only: no strategy is ever saved. */
  neverSave?: boolean;
  /** The assessment ends with text only. */
  neverAssess?: boolean;
  /** Tries to save under '../../etc/evil' first. */
  traversalName?: boolean;
  /** The first start_backtest overlaps the training window. */
  overlappingBacktest?: boolean;
  /** Waits this long before answering the first request of a design invocation (for kill tests). */
  designDelayMs?: number;
  /** How many first design requests get that delay (default 1). */
  designDelayTimes?: number;
  /** Response headers on every answer (e.g. `anthropic-ratelimit-requests-remaining`). */
  headers?: Record<string, string>;
  /** Awaited before each answer goes out, knowing what it says (to hold one while an operator acts). */
  beforeAnswer?: (request: RecordedRequest, answer: ScriptedResponse) => Promise<void>;
}

export const TRAINING_WINDOW = { start_date: '2018-01-01', end_date: '2022-12-31' } as const;
export const BACKTEST_WINDOW = { start_date: '2023-01-01', end_date: '2024-06-30' } as const;
export const TRAVERSAL_NAME = '../../etc/evil';

interface ToolExchange {
  name: string;
  input: Record<string, unknown>;
  isError: boolean | null;
  /** The tool result's text (an error message when isError). */
  resultText: string;
}

/** A v3 strategy shaped like KTRDR's v3_multi_output_indicator example: RSI (0..100) plus ADX with DI+/DI-. */
export function validStrategy(name: string): Record<string, unknown> {
  const levels = (a: string, b: string, c: string) => ({
    [a]: { type: 'triangular', parameters: [0, 15, 35] },
    [b]: { type: 'triangular', parameters: [25, 50, 75] },
    [c]: { type: 'triangular', parameters: [65, 85, 100] },
  });
  return {
    name,
    version: '3.0',
    description: 'RSI momentum filtered by ADX trend strength and directional pressure',
    training_data: {
      symbols: { mode: 'single', symbol: 'EURUSD' },
      timeframes: { mode: 'single', timeframe: '1h' },
      history_required: 200,
    },
    indicators: {
      rsi_14: { type: 'rsi', period: 14 },
      adx_14: { type: 'adx', period: 14 },
    },
    fuzzy_sets: {
      rsi_level: { indicator: 'rsi_14', ...levels('oversold', 'neutral', 'overbought') },
      adx_strength: { indicator: 'adx_14.adx', ...levels('weak', 'moderate', 'strong') },
      di_plus: { indicator: 'adx_14.plus_di', ...levels('low', 'medium', 'high') },
      di_minus: { indicator: 'adx_14.minus_di', ...levels('low', 'medium', 'high') },
    },
    nn_inputs: [
      { fuzzy_set: 'rsi_level', timeframes: 'all' },
      { fuzzy_set: 'adx_strength', timeframes: 'all' },
      { fuzzy_set: 'di_plus', timeframes: 'all' },
      { fuzzy_set: 'di_minus', timeframes: 'all' },
    ],
    model: {
      type: 'mlp',
      architecture: { hidden_layers: [64, 32], activation: 'relu', output_activation: 'softmax', dropout: 0.2 },
      features: { include_price_context: false, lookback_periods: 2, scale_features: true },
      training: {
        learning_rate: 0.001,
        batch_size: 32,
        epochs: 100,
        optimizer: 'adam',
        early_stopping: { enabled: true, patience: 15, min_delta: 0.001 },
      },
    },
    decisions: { output_format: 'classification', confidence_threshold: 0.6, position_awareness: true },
    training: {
      method: 'supervised',
      labels: { source: 'zigzag', zigzag_threshold: 0.025, label_lookahead: 20 },
      data_split: { train: 0.7, validation: 0.15, test: 0.15 },
    },
  };
}

/** A config a model gets wrong: RSI fuzzy sets beyond its 0..100 range and an input naming no fuzzy set. */
export function invalidStrategy(name: string): Record<string, unknown> {
  const config = validStrategy(name);
  return {
    ...config,
    fuzzy_sets: {
      ...(config.fuzzy_sets as Record<string, unknown>),
      rsi_level: { indicator: 'rsi_14', extreme: { type: 'triangular', parameters: [150, 200, 250] } },
    },
    nn_inputs: [...(config.nn_inputs as unknown[]), { fuzzy_set: 'no_such_set', timeframes: 'all' }],
  };
}

export function strategyNameFor(sessionId: number): string {
  return `rsi_adx_momentum_s${sessionId}`;
}

function textOf(content: string | WireBlock[]): string {
  if (typeof content === 'string') return content;
  return content.map((block) => (block.type === 'text' && typeof block.text === 'string' ? block.text : '')).join('\n');
}

/** The session number the trigger names in the first user message ("session #N"). */
export function sessionIdOf(request: RecordedRequest): number {
  const first = request.body?.messages[0];
  const match = first ? /session #(\d+)/.exec(textOf(first.content)) : null;
  if (!match) throw new Error('scripted model: the first user message names no "session #N"');
  return Number(match[1]);
}

export function toolNamesOf(request: RecordedRequest): string[] {
  return (request.body?.tools ?? []).map((tool) => String(tool.name));
}

/** The first request of an invocation for the given phase tool (e.g. save_strategy_config for design). */
export function isFirstTurnOf(request: RecordedRequest, phaseTool: string): boolean {
  return toolNamesOf(request).includes(phaseTool) && request.body?.messages.length === 1;
}

/** Every tool call so far in the conversation, with whether its result came back as an error. */
function exchangesOf(messages: WireMessage[]): ToolExchange[] {
  const byId = new Map<string, ToolExchange>();
  const exchanges: ToolExchange[] = [];
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const block of message.content) {
      if (message.role === 'assistant' && block.type === 'tool_use') {
        const exchange: ToolExchange = { name: String(block.name), input: (block.input ?? {}) as Record<string, unknown>, isError: null, resultText: '' };
        byId.set(String(block.id), exchange);
        exchanges.push(exchange);
      }
      if (message.role === 'user' && block.type === 'tool_result') {
        const exchange = byId.get(String(block.tool_use_id));
        if (exchange) {
          exchange.isError = block.is_error === true;
          exchange.resultText = textOf((block.content ?? '') as string | WireBlock[]);
        }
      }
    }
  }
  return exchanges;
}

function call(thought: string, name: string, input: unknown): ScriptedResponse {
  return { content: [thinking(thought), toolUse(name, input)], stop_reason: 'tool_use' };
}

function finish(thought: string, summary: string): ScriptedResponse {
  return { content: [thinking(thought), text(summary)], stop_reason: 'end_turn' };
}

/** One model turn, decided from the tools offered and the conversation so far, as Claude would. */
export function modelTurn(request: RecordedRequest, options: ScriptedModelOptions = {}): ScriptedResponse {
  const tools = toolNamesOf(request);
  const messages = request.body?.messages ?? [];
  const history = exchangesOf(messages);
  const succeeded = (name: string) => history.some((e) => e.name === name && e.isError === false);
  const attempts = (name: string) => history.filter((e) => e.name === name);

  if (tools.includes('save_strategy_config')) {
    const name = strategyNameFor(sessionIdOf(request));
    if (!succeeded('validate_strategy')) {
      return call('I will combine RSI momentum with ADX trend strength; first I validate the draft.', 'validate_strategy', { config: validStrategy(name) });
    }
    if (options.neverSave) {
      return finish('I am not confident in this design.', 'I validated a design but decided not to save it; nothing to train this cycle.');
    }
    const saves = attempts('save_strategy_config');
    if (options.traversalName && !saves.some((e) => e.input.name === TRAVERSAL_NAME)) {
      return call('Saving the strategy.', 'save_strategy_config', { name: TRAVERSAL_NAME, config: validStrategy(TRAVERSAL_NAME) });
    }
    const invalidSent = saves.filter((e) => e.input.name === name && e.isError === true).length;
    if (invalidSent < (options.invalidYamlFirst ?? 0)) {
      return call('Saving the strategy with an extra extreme RSI set.', 'save_strategy_config', { name, config: invalidStrategy(name) });
    }
    if (!succeeded('save_strategy_config')) {
      // The research memory refuses a design already run, the trial accounting one another session has in flight,
      // and an exploring cycle a near-copy: like Claude, change what it computes and save again.
      const known = saves.filter((e) => e.isError === true && /already run|is running this design|near-copy/.test(e.resultText)).length;
      // After a near-copy refusal the model, as Claude may, declines the directive with its reason.
      const nearCopy = saves.some((e) => e.isError === true && e.resultText.includes('near-copy'));
      const config = validStrategy(name) as { indicators: { rsi_14: { period: number } } };
      if (known > 0) config.indicators.rsi_14.period = 14 + known;
      return call(known > 0 ? 'That design was already run; I change the RSI period.' : 'The validation passed; saving it.', 'save_strategy_config', {
        name,
        config,
        description: 'RSI momentum with ADX trend filter',
        ...(nearCopy ? { declines_directive: 'a one-step change of the RSI period tests whether the last result holds' } : {}),
      });
    }
    if (!succeeded('start_training')) {
      return call('Training on 2018-2022 leaves 2023 onwards for the backtest.', 'start_training', { strategy_name: name, ...TRAINING_WINDOW });
    }
    return finish('Done.', `Designed and saved ${name}; training started on ${TRAINING_WINDOW.start_date}..${TRAINING_WINDOW.end_date}.`);
  }

  if (tools.includes('start_backtest')) {
    if (options.overlappingBacktest && attempts('start_backtest').length === 0) {
      return call('Backtesting over 2022 and 2023.', 'start_backtest', { start_date: '2022-06-01', end_date: '2023-06-30' });
    }
    if (!succeeded('start_backtest')) {
      return call('Backtesting on data the model never saw.', 'start_backtest', { ...BACKTEST_WINDOW });
    }
    return finish('Done.', `Backtest started on ${BACKTEST_WINDOW.start_date}..${BACKTEST_WINDOW.end_date}.`);
  }

  if (tools.includes('save_assessment')) {
    if (options.neverAssess) return finish('Hmm.', 'The results are interesting, but I will leave the verdict for later.');
    if (!succeeded('save_assessment')) {
      return call('Weighing the backtest against the gate.', 'save_assessment', {
        verdict: 'neutral',
        explanation: 'The strategy passed both gates with modest margins; the edge is plausible but thin.',
        strengths: ['Out-of-sample backtest passed its gate'],
        weaknesses: ['Single symbol and timeframe'],
        suggestions: ['Try the same design on GBPUSD'],
      });
    }
    return finish('Done.', 'Assessment saved.');
  }

  return finish('Nothing to do.', 'No tool I recognise was offered.');
}

/** The scripted model as a reaction the fake server calls for each request. */
export function scriptedModel(options: ScriptedModelOptions = {}): ScriptReaction {
  let delaysLeft = (options.designDelayMs ?? 0) > 0 ? (options.designDelayTimes ?? 1) : 0;
  return async (request, { signal }) => {
    if (delaysLeft > 0 && isFirstTurnOf(request, 'save_strategy_config')) {
      delaysLeft -= 1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.designDelayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const turn = modelTurn(request, options);
    await options.beforeAnswer?.(request, turn);
    return options.headers ? { ...turn, headers: options.headers } : turn;
  };
}

/** Queues enough turns of the scripted model for a whole test. */
export function playModel(fake: FakeAnthropic, options: ScriptedModelOptions = {}, turns = 300): void {
  const model = scriptedModel(options);
  fake.script(Array.from({ length: turns }, () => model));
}

/** Gate thresholds every result passes, and ones none can. */
export const GATES_ALWAYS_PASS: Record<string, string> = {
  GATE_TRAINING_MIN_ACCURACY: '0',
  GATE_TRAINING_MAX_LOSS: '100',
  GATE_TRAINING_MIN_LOSS_REDUCTION: '-1',
  GATE_BACKTEST_MIN_WIN_RATE: '0',
  GATE_BACKTEST_MAX_DRAWDOWN: '1',
  GATE_BACKTEST_MIN_SHARPE: '-100',
};

/**
 * A clock for the simulator that the test can hold still (operations stay where they are while frozen) and move on
 * at will; time never goes backwards.
 */
export class SimClock {
  private frozenAt: number | null = null;
  private offset = 0;

  readonly now = (): number => this.frozenAt ?? Date.now() + this.offset;

  freeze(): void {
    this.frozenAt = this.now();
  }

  advance(ms: number): void {
    if (this.frozenAt !== null) this.frozenAt += ms;
    else this.offset += ms;
  }

  /** A pass's wait (`runTick`'s `sleep`: following short work) moves this clock on instead of taking real time. */
  readonly sleep = async (ms: number): Promise<void> => this.advance(ms);

  run(): void {
    if (this.frozenAt === null) return;
    this.offset = this.frozenAt - Date.now();
    this.frozenAt = null;
  }
}

export interface SessionRow {
  id: number;
  phase: string;
  designer: string;
  strategy_name: string | null;
  strategy_file_path: string | null;
  training_operation_id: string | null;
  backtest_operation_id: string | null;
  outcome: string | null;
  failure_reason: string | null;
  invocation_attempts: number;
  lease_expires_at: Date | null;
  tokens_input: string;
  tokens_output: string;
  tokens_cache_read: string;
  tokens_cache_write: string;
  cost_usd: string;
  phase_history: { phase: string; at: string }[];
  assessment: Record<string, unknown> | null;
}

/** Everything one engine end-to-end test runs against: its own database, simulator, fake Anthropic and a CLI env. */
export interface EngineRig {
  env: Record<string, string>;
  apiKey: string;
  strategiesDir: string;
  sim: Simulator;
  clock: SimClock;
  fake: FakeAnthropic;
  pool: pg.Pool;
  /** Every CLI result so far, for secret checks. */
  outputs: CliResult[];
  tick(extraEnv?: Record<string, string>): Promise<CliResult>;
  /** One tick whatever its exit code (for ticks that are meant to report a fault). */
  tickAllowingFailure(extraEnv?: Record<string, string>): Promise<CliResult>;
  /** Ticks, the simulator clock moving `advanceMs` after each, until `done` holds; fails after maxTicks. */
  tickUntil(done: () => Promise<boolean>, options?: { maxTicks?: number; advanceMs?: number; env?: Record<string, string> }): Promise<number>;
  sessions(): Promise<SessionRow[]>;
  session(id: number): Promise<SessionRow>;
  close(): Promise<void>;
}

export async function startEngineRig(options: {
  designer: 'claude' | 'baseline';
  model?: ScriptedModelOptions;
  env?: Record<string, string>;
  frozenClock?: boolean;
  /** The key the fake Anthropic API accepts (others get 401); any key when unset. */
  acceptedApiKey?: string;
}): Promise<EngineRig> {
  const database = await createTestDatabase('ktrdr_agent_engine');
  const home = tempDir('ktrdr-agent-home-');
  const strategies = tempDir('ktrdr-agent-strategies-');
  const clock = new SimClock();
  if (options.frozenClock) clock.freeze();
  const sim = await createSimulator({ strategiesDir: strategies.path, seed: 7, timeScale: 20_000, now: clock.now });
  const fake = await startFakeAnthropic(options.acceptedApiKey ? { apiKey: options.acceptedApiKey } : {});
  if (options.designer === 'claude') playModel(fake, options.model ?? {});
  const apiKey = options.acceptedApiKey ?? `sk-ant-test-${randomBytes(12).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // An idle connection cut when the database is dropped is not a test failure.
  pool.on('error', () => {});
  const env: Record<string, string> = {
    HOME: home.path,
    DATABASE_URL: database.url,
    KTRDR_API_URL: sim.url,
    KTRDR_STRATEGIES_DIR: strategies.path,
    AGENT_DESIGNER: options.designer,
    ANTHROPIC_API_KEY: apiKey,
    ANTHROPIC_BASE_URL: fake.url,
    AGENT_RETRY_BACKOFF_BASE: '0.01',
    // These tests step the engine one pass at a time; a pass following work to its end is tested on its own
    // (test/e2e/pass-follow.test.ts), and a frozen clock would keep a followed backtest running for the whole wait.
    AGENT_PASS_FOLLOW_SECONDS: '0',
    // One session at a time, as these tests count them; `auto` (the default) has tests of its own (test/e2e/throughput.test.ts).
    AGENT_MAX_CONCURRENT_SESSIONS: '1',
    ...GATES_ALWAYS_PASS,
    ...options.env,
  };
  const outputs: CliResult[] = [];
  const tickAllowingFailure = async (extraEnv: Record<string, string> = {}): Promise<CliResult> => {
    const result = await runCli(['tick'], { ...env, ...extraEnv });
    outputs.push(result);
    return result;
  };
  const tick = async (extraEnv: Record<string, string> = {}): Promise<CliResult> => {
    const result = await tickAllowingFailure(extraEnv);
    if (result.code !== 0) throw new Error(`tick exited ${result.code} (${result.signal}):\n${result.stderr}`);
    return result;
  };
  const sessions = async (): Promise<SessionRow[]> => {
    const exists = await pool.query(`SELECT to_regclass('agent_sessions') AS t`);
    if (!exists.rows[0].t) return [];
    return (await pool.query<SessionRow>('SELECT * FROM agent_sessions ORDER BY id')).rows;
  };
  return {
    env,
    apiKey,
    strategiesDir: strategies.path,
    sim,
    clock,
    fake,
    pool,
    outputs,
    tick,
    tickAllowingFailure,
    async tickUntil(done, { maxTicks = 25, advanceMs = 5_000, env: extraEnv = {} } = {}) {
      for (let count = 1; count <= maxTicks; count += 1) {
        await tick(extraEnv);
        if (await done()) return count;
        clock.advance(advanceMs);
      }
      throw new Error(`the condition did not hold after ${maxTicks} ticks; sessions: ${JSON.stringify(await sessions(), null, 1)}`);
    },
    sessions,
    async session(id) {
      const row = (await sessions()).find((s) => s.id === id);
      if (!row) throw new Error(`no session ${id}`);
      return row;
    },
    async close() {
      await pool.end();
      await Promise.allSettled([sim.close(), fake.close()]);
      await database.drop();
      home.remove();
      strategies.remove();
    },
  };
}
