import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { toolsFor, type ToolContext, type ToolDefinition } from '../../src/core/agent/tools.ts';
import { AgentError } from '../../src/core/kernel/errors.ts';
import { loadConfig } from '../../src/core/config/load.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { createSession } from '../../src/core/db/repositories/sessions.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { parseStrategyYaml, StrategyStore } from '../../src/core/strategy/index.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { startFakeAnthropic, text, thinking, toolUse, type FakeAnthropic, type RecordedRequest, type ScriptStep } from '../support/fake-anthropic.ts';

const KEY = 'sk-ant-api03-SECURITYCANARY-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d';
/** Also caught: the key cut short, as a truncating log line would. */
const FRAGMENTS = [KEY, 'SECURITYCANARY', KEY.slice(0, 24)];

interface Receiver {
  url: string;
  bodies: Buffer[];
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const bodies: Buffer[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat([Buffer.from(`${request.method} ${request.url}\n${JSON.stringify(request.headers)}\n`), ...chunks]));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the API key never leaves the Anthropic auth header', () => {
  const work = tempDir('ktrdr-agent-security-');
  // Outside `work`, whose every file is searched for the key.
  const secrets = tempDir('ktrdr-agent-secrets-');
  const strategiesDir = join(work.path, 'strategies');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: Simulator;
  let fake: FakeAnthropic;
  let otlp: Receiver;
  let pushgateway: Receiver;
  const captured: { where: string; bytes: string }[] = [];

  before(async () => {
    mkdirSync(strategiesDir);
    database = await createTestDatabase();
    simulator = await createSimulator({ strategiesDir, seed: 17, timeScale: 100_000 });
    fake = await startFakeAnthropic({ apiKey: KEY });
    otlp = await startReceiver();
    pushgateway = await startReceiver();
  });
  after(async () => {
    await fake.close();
    await simulator.close();
    for (const receiver of [otlp, pushgateway]) await new Promise((resolve) => receiver.server.close(resolve));
    await database.drop();
    work.remove();
    secrets.remove();
  });

  test('baseline ticks, scripted claude ticks and read commands leak nothing (the key only in an env file, as under cron)', async () => {
    const envFile = join(secrets.path, 'agent.env');
    writeFileSync(envFile, `ANTHROPIC_API_KEY=${KEY}\n`, { mode: 0o600 });
    const env = {
      HOME: work.path,
      DATABASE_URL: database.url,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      KTRDR_AGENT_ENV_FILE: envFile,
      ANTHROPIC_BASE_URL: fake.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      PUSHGATEWAY_URL: pushgateway.url,
      AGENT_RETRY_BACKOFF_BASE: '0.01',
      // One session and one step a tick, as before auto and following became the defaults: the scripted model below
      // is sized for that (60 answers over 10 ticks).
      AGENT_MAX_CONCURRENT_SESSIONS: '1',
      AGENT_PASS_FOLLOW_SECONDS: '0',
    };
    const baseline = { ...env, AGENT_DESIGNER: 'baseline' };
    for (let i = 0; i < 12; i++) {
      const tick = await runCli(['tick'], baseline);
      assert.equal(tick.code, 0, tick.stderr);
      captured.push({ where: `baseline tick ${i}`, bytes: tick.stdout + tick.stderr });
    }
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const finishedBaseline = (await client.query(`SELECT count(*)::int AS n FROM agent_sessions WHERE outcome IS NOT NULL`)).rows[0].n;
      assert.ok(finishedBaseline >= 1, 'the baseline finished a cycle');
      const template = (await client.query(`SELECT strategy_config, training_params FROM agent_sessions WHERE strategy_config IS NOT NULL ORDER BY id LIMIT 1`))
        .rows[0];
      await client.query(`UPDATE agent_sessions SET phase = 'idle', outcome = 'cancelled', completed_at = NOW() WHERE outcome IS NULL`);

      // A claude cycle: design with tool calls, then whatever backtest/assess invocations the gates allow.
      let designs = 0;
      let queue: ScriptStep[] = [];
      const step = (name: string, input: unknown): ScriptStep => ({ content: [thinking(`Call ${name}.`), toolUse(name, input)], stop_reason: 'tool_use' });
      const end = (words: string): ScriptStep => ({ content: [thinking('Done.'), text(words)], stop_reason: 'end_turn' });
      const dayAfter = (date: string, days: number) => new Date(Date.parse(date) + days * 86_400_000).toISOString().slice(0, 10);
      const params = template.training_params as { startDate: string; endDate: string };
      const react = (request: RecordedRequest): ScriptStep => {
        const tools = (request.body?.tools as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
        if ((request.body?.messages as unknown[] | undefined)?.length === 1) {
          const name = `security_claude_${designs++}`;
          queue = tools.includes('save_strategy_config')
            ? [
                step('get_agent_state', {}),
                step('save_strategy_config', { name, config: { ...template.strategy_config, name } }),
                step('start_training', { strategy_name: name, start_date: params.startDate, end_date: params.endDate }),
                end('Training started.'),
              ]
            : tools.includes('start_backtest')
              ? [step('start_backtest', { start_date: dayAfter(params.endDate, 1), end_date: dayAfter(params.endDate, 181) }), end('Backtest started.')]
              : [
                  step('save_assessment', {
                    verdict: 'neutral',
                    explanation: 'Middling results here.',
                    strengths: ['simple'],
                    weaknesses: ['few trades'],
                    suggestions: ['another timeframe'],
                  }),
                  end('Assessed.'),
                ];
        }
        return queue.shift() ?? end('Nothing left.');
      };
      fake.script([{ status: 429, retryAfter: 0 }, ...Array.from({ length: 60 }, () => react)]);
      const claude = { ...env, AGENT_DESIGNER: 'claude' };
      for (let i = 0; i < 10; i++) {
        const tick = await runCli(['tick'], claude);
        assert.equal(tick.code, 0, tick.stderr);
        captured.push({ where: `claude tick ${i}`, bytes: tick.stdout + tick.stderr });
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      assert.ok(fake.requests.length >= 4, 'the claude designer was invoked');
      assert.deepEqual(fake.scriptErrors, []);

      for (const args of [['status', '--json'], ['history', '--json'], ['config', '--json'], ['budget', '--json'], ['session', '1', '--json'], ['trigger']]) {
        const result = await runCli(args, claude);
        captured.push({ where: args.join(' '), bytes: result.stdout + result.stderr });
      }
      const tables = (await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).rows.map(
        (r) => r.table_name as string,
      );
      assert.ok(tables.includes('agent_actions') && tables.includes('agent_sessions'));
      for (const table of tables) {
        const rows = (await client.query(`SELECT t::text AS row FROM "${table}" t`)).rows.map((r) => r.row as string);
        captured.push({ where: `table ${table}`, bytes: rows.join('\n') });
      }
    } finally {
      await client.end();
    }
    for (const file of filesUnder(work.path)) captured.push({ where: file, bytes: readFileSync(file, 'latin1') });
    assert.ok(otlp.bodies.length > 0, 'traces were exported');
    assert.ok(pushgateway.bodies.length > 0, 'metrics were pushed');
    otlp.bodies.forEach((body, i) => captured.push({ where: `otlp body ${i}`, bytes: body.toString('latin1') }));
    pushgateway.bodies.forEach((body, i) => captured.push({ where: `pushgateway body ${i}`, bytes: body.toString('latin1') }));

    const leaks = captured.filter((c) => FRAGMENTS.some((fragment) => c.bytes.includes(fragment))).map((c) => c.where);
    assert.deepEqual(leaks, []);
    fake.assertApiKeyConfined(KEY);
  });
});

describe('hostile input from a tool or a file', () => {
  const work = tempDir('ktrdr-agent-hostile-');
  const strategiesDir = join(work.path, 'strategies');
  const outside = join(work.path, 'outside');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  let simulator: Simulator;
  let tools: Map<string, ToolDefinition>;

  before(async () => {
    mkdirSync(strategiesDir);
    mkdirSync(outside);
    database = await createTestDatabase();
    store = await openStore({ kind: 'postgres', url: database.url });
    simulator = await createSimulator({ strategiesDir, seed: 3 });
    const config = loadConfig({ env: { HOME: work.path, DATABASE_URL: database.url, KTRDR_API_URL: simulator.url, KTRDR_STRATEGIES_DIR: strategiesDir } });
    const now = new Date();
    const session = await createSession(store.db, { designer: 'claude', now, leaseOwner: 'security-test', leaseExpiresAt: new Date(now.getTime() + 600_000) });
    const context: ToolContext = {
      db: store.db,
      sessionId: session.id,
      ktrdr: new KtrdrClient({ baseUrl: simulator.url }),
      strategies: new StrategyStore(strategiesDir),
      ktrdrUnreachable: false,
      config,
      now: () => new Date(),
      turn: { index: 1, tokensInput: null, tokensOutput: null },
    };
    tools = new Map(toolsFor('design', context).map((tool) => [tool.name, tool]));
  });
  after(async () => {
    await store.close();
    await simulator.close();
    await database.drop();
    work.remove();
  });

  test('strategy names that would escape or abuse the directory are refused, nothing written outside', async () => {
    const save = tools.get('save_strategy_config')!;
    symlinkSync(join(outside, 'target.yaml'), join(strategiesDir, 'linked.yaml'));
    const before = filesUnder(work.path).sort();
    const names = [
      '../outside/escape',
      '../../etc/escape',
      '/tmp/absolute',
      `${outside}/absolute`,
      'linked',
      'con',
      '.',
      '..',
      '.hidden',
      'a/b',
      'a\\b',
      'x'.repeat(300),
      '',
    ];
    for (const name of names) {
      const outcome = await save.run({ name, config: { name } });
      assert.equal(outcome.ok, false, `name ${JSON.stringify(name.slice(0, 40))} was accepted`);
      assert.ok(outcome.ok === false && outcome.error.length > 0);
    }
    assert.deepEqual(filesUnder(work.path).sort(), before);
    assert.equal(existsSync(join(outside, 'target.yaml')), false);
  });

  test('a strategy name with a NUL byte is refused like any other bad name', async () => {
    // The refusal is logged as an action; PostgreSQL JSONB cannot hold \u0000, so the tool must not let it reach the log raw.
    const outcome = await tools.get('save_strategy_config')!.run({ name: 'nul\u0000byte', config: { name: 'nul\u0000byte' } });
    assert.equal(outcome.ok, false);
    assert.deepEqual(
      readdirSync(strategiesDir).filter((f) => f.startsWith('nul')),
      [],
    );
  });

  test('hostile YAML is refused with a clear error and bounded memory', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const aliasBomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n');
    const nested = `${Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} 1\n`;
    const flowNested = `${'['.repeat(100)}1${']'.repeat(100)}`;
    const huge = `name: big\ndescription: "${'x'.repeat(10 * 1024 * 1024)}"\n`;
    for (const [label, source] of [
      ['alias bomb', aliasBomb],
      ['100-level block nesting', nested],
      ['100-level flow nesting', flowNested],
      ['10 MB string', huge],
    ] as const) {
      const result = parseStrategyYaml(source);
      assert.equal(result.ok, false, `${label} was accepted`);
      assert.ok(result.ok === false && /alias|nest|deep|depth|large|size|bytes|limit/i.test(result.error), `${label}: ${result.ok ? '' : result.error}`);
    }
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 200 * 1024 * 1024);
  });

  test('hostile tool inputs are refused with a clear error and bounded memory', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const validate = tools.get('validate_strategy')!;
    const save = tools.get('save_strategy_config')!;
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100; i++) deep = { nested: deep };
    const cases: [string, ToolDefinition, unknown][] = [
      ['wrong type: config is a string', validate, { config: 'name: x' }],
      ['wrong type: input is an array', validate, [1, 2]],
      ['unknown field', validate, { config: {}, extra: true }],
      ['100-level nesting', save, { name: 'deep_one', config: { name: 'deep_one', ...deep } }],
      ['10 MB string', save, { name: 'huge_one', config: { name: 'huge_one', description: 'x'.repeat(10 * 1024 * 1024) } }],
      ['10 MB description', save, { name: 'huge_two', config: { name: 'huge_two' }, description: 'y'.repeat(10 * 1024 * 1024) }],
      ['wrong type: name is a number', save, { name: 42, config: {} }],
    ];
    for (const [label, tool, input] of cases) {
      const outcome = await tool.run(input);
      assert.equal(outcome.ok, false, `${label} was accepted`);
      assert.ok(outcome.ok === false && outcome.error.length > 0 && outcome.error.length < 20_000, `${label}: the error is short and says what is wrong`);
    }
    assert.deepEqual(
      readdirSync(strategiesDir).filter((f) => /deep_one|huge_/.test(f)),
      [],
    );
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 200 * 1024 * 1024);
  });
});

describe('every invalid configuration value', () => {
  const home = tempDir('ktrdr-agent-config-');
  after(() => home.remove());
  const invalid: Record<string, string> = {
    DATABASE_URL: 'mysql://x',
    KTRDR_API_URL: 'ftp://ktrdr',
    KTRDR_TIMEOUT_SECONDS: 'soon',
    AGENT_MODEL_PRICES: '{"m":',
    AGENT_DESIGNER: 'gpt',
    AGENT_MAX_CONCURRENT_SESSIONS: '-1',
    AGENT_RECENT_STRATEGIES_COUNT: 'many',
    AGENT_MAX_TURNS: '0',
    AGENT_MAX_TOKENS: '1.5',
    AGENT_INVOCATION_TIMEOUT_SECONDS: 'x',
    AGENT_PROMPT_CACHING: 'maybe',
    AGENT_BUDGET_DAILY_USD: '-5',
    AGENT_BUDGET_BUFFER_USD: 'lots',
    AGENT_BUDGET_ENFORCEMENT: 'sometimes',
    GATE_TRAINING_MIN_ACCURACY: '45%',
    GATE_TRAINING_MAX_LOSS: 'low',
    GATE_TRAINING_MIN_LOSS_REDUCTION: '2',
    GATE_BACKTEST_MIN_WIN_RATE: 'high',
    GATE_BACKTEST_MAX_DRAWDOWN: '-0.1',
    GATE_BACKTEST_MIN_SHARPE: 'good',
    AGENT_RETRY_MAX_ATTEMPTS: '0.5',
    AGENT_RETRY_BACKOFF_BASE: 'fast',
    AGENT_RESUME_MAX_ATTEMPTS: '-2',
    AGENT_STALL_TIMEOUT_MINUTES: 'never',
    AGENT_LEASE_SECONDS: '0',
    AGENT_POLL_CONCURRENCY: '0',
    AGENT_LOCK_WAIT_SECONDS: 'forever',
    PUSHGATEWAY_URL: 'not a url',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'gopher://x',
  };

  test('loading it fails with exit 2 naming the variable', () => {
    for (const [name, value] of Object.entries(invalid)) {
      assert.throws(
        () => loadConfig({ env: { HOME: home.path, [name]: value } }),
        (error: unknown) => error instanceof AgentError && error.exitCode === 2 && error.message.includes(name),
        `${name}=${value}`,
      );
    }
  });

  test('the CLI exits 2 naming the variable, and never echoes the key', async () => {
    for (const name of ['AGENT_DESIGNER', 'GATE_TRAINING_MIN_ACCURACY', 'AGENT_PROMPT_CACHING', 'KTRDR_API_URL']) {
      for (const args of [['tick'], ['status', '--json']]) {
        const result = await runCli(args, { HOME: home.path, ANTHROPIC_API_KEY: KEY, [name]: invalid[name]! });
        assert.equal(result.code, 2, `${args.join(' ')} with ${name}: ${result.stderr}`);
        assert.match(result.stdout + result.stderr, new RegExp(`${name}=`));
        assert.ok(!(result.stdout + result.stderr).includes('SECURITYCANARY'));
      }
    }
  });
});
