import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelpWith } from '../core/cli/base-command.ts';
import { ExitCode } from '../core/kernel/errors.ts';
import { modelWarnings } from '../core/config/model-checks.ts';
import { paint } from '../core/cli/format.ts';
import { ConfigError, loadConfig, type AgentConfig } from '../core/config/load.ts';
import { maskUrlCredentials, redactSecrets } from '../core/kernel/secrets.ts';
import { describeTarget, openStore, storeTarget } from '../core/db/connect.ts';
import { migrationStatus } from '../core/db/migrate.ts';
import { KtrdrClient } from '../core/ktrdr/client.ts';
import { KtrdrError } from '../core/ktrdr/errors.ts';
import { readControl, type HeldFault } from '../core/db/repositories/activity.ts';
import { heldFaultBanner } from '../core/cli/views/banners.ts';
import { StrategyStore } from '../core/strategy/store.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional?: boolean;
}

/** A diagnosis asks once, briefly: an unreachable KTRDR is reported within this, not retried. */
const DIAGNOSIS_TIMEOUT_MS = 2000;

/** Advice that fits how KTRDR failed: nothing listening, no answer, refused credentials, a wrong path, or a fault of its own. */
export function ktrdrAdvice(error: unknown, url: string): string {
  if (!(error instanceof KtrdrError)) return 'start KTRDR or set KTRDR_API_URL (try `ktrdr-agent sim serve` for the simulator)';
  if (error.kind === 'transport') return `network: nothing answers at ${url}; start KTRDR, or fix the host and port in KTRDR_API_URL (try \`ktrdr-agent sim serve\` for the simulator)`;
  if (error.kind === 'timeout') return `network: ${url} did not answer within ${DIAGNOSIS_TIMEOUT_MS / 1000} s; check that the host is up and no firewall drops the connection`;
  if (error.status === 401 || error.status === 403) return 'credentials: KTRDR refused the request; check the user and password in KTRDR_API_URL';
  if (error.status === 404) return 'address: KTRDR answered 404; KTRDR_API_URL must end with the API prefix, e.g. http://host:8000/api/v1';
  if (error.status !== null && error.status >= 500) return 'KTRDR is up but failing (5xx); look at its logs';
  return 'KTRDR answered something the agent does not understand; check that KTRDR_API_URL points at KTRDR';
}

/** Advice that fits how the Anthropic API failed: the key, the model, or the network. */
export function anthropicAdvice(error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 401) return 'key: Anthropic refused ANTHROPIC_API_KEY (wrong or revoked); create a key in the Claude Console and set it';
  if (status === 403) return "key: this key may not use the API (permission); check the key's workspace and permissions in the Claude Console";
  if (status === 404) return 'model: AGENT_MODEL is not available to this key; set AGENT_MODEL to a model the key can use';
  if (status === 429) return 'rate limit: the key is over its rate or spend limit; wait, or raise the limits in the Claude Console';
  if (typeof status === 'number' && status >= 500) return 'Anthropic is failing (5xx); try again later';
  return 'network: the Anthropic API could not be reached; check connectivity, proxies and ANTHROPIC_BASE_URL';
}

async function probe(url: string, timeoutMs: number): Promise<string | null> {
  try {
    // Credentials in the URL go into a header: fetch refuses URLs that carry them.
    const target = new URL(url);
    const headers: Record<string, string> = {};
    if (target.username || target.password) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString('base64')}`;
      target.username = '';
      target.password = '';
    }
    await fetch(target, { signal: AbortSignal.timeout(timeoutMs), method: 'GET', headers });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** One attempt, briefly: a diagnosis reports a KTRDR that is down, it does not wait out the retries of a tick. */
async function checkKtrdr(ktrdr: KtrdrClient, url: string): Promise<Check> {
  try {
    await ktrdr.health();
    const workers = await ktrdr.listWorkers().catch(() => null);
    return { name: 'KTRDR', ok: true, detail: `${url} healthy${workers ? `; ${workers.length} worker(s)` : ''}` };
  } catch (error) {
    return { name: 'KTRDR', ok: false, detail: `${url}: ${(error as Error).message}`, fix: ktrdrAdvice(error, url) };
  }
}

export default class Doctor extends AgentCommand {
  static override summary = 'Check the installation: configuration, database, KTRDR, strategies directory, API key, telemetry endpoints.';
  static override description = `A checklist with the fix for each failure. Exits 1 when something is broken (2 when the configuration is invalid).\n\n${exitCodesHelpWith({ [ExitCode.Error]: 'something required is broken (each failed check says how to fix it)', [ExitCode.NotConfigured]: 'the configuration is invalid' })}`;
  static override enableJsonFlag = true;
  static override flags = {
    online: Flags.boolean({ description: 'Also make a real authenticated call to the Anthropic API (costs nothing: lists models).' }),
  };
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --online --json'];

  async run() {
    const { flags } = await this.parse(Doctor);
    const checks: Check[] = [];
    let config: AgentConfig;
    try {
      config = loadConfig(flags['env-file'] ? { envFile: flags['env-file'] } : {});
      const warnings = config.warnings.length ? `; ${config.warnings.join('; ')}` : '';
      checks.push({ name: 'configuration', ok: true, detail: `${config.envFiles.length ? `valid (env files: ${config.envFiles.join(', ')})` : 'valid'}${warnings}` });
    } catch (error) {
      if (error instanceof ConfigError) {
        checks.push({ name: 'configuration', ok: false, detail: error.message.split('\n').slice(0, -1).join('; '), fix: 'fix the listed variables; `ktrdr-agent config` shows the effective settings' });
        return this.report(checks, 2);
      }
      throw error;
    }
    const s = config.settings;
    const target = storeTarget(config);
    // KTRDR and the telemetry endpoints are asked while the database opens (PGlite's start-up alone takes seconds):
    // a diagnosis with KTRDR down costs the longer of the two, not their sum.
    const ktrdr = new KtrdrClient({ baseUrl: s.KTRDR_API_URL, timeoutMs: DIAGNOSIS_TIMEOUT_MS, retry: { maxAttempts: 1, backoffBaseSeconds: 0 } });
    const ktrdrCheck = checkKtrdr(ktrdr, s.KTRDR_API_URL);
    const telemetry = Promise.all(
      ([['Pushgateway', s.PUSHGATEWAY_URL], ['OTLP endpoint', s.OTEL_EXPORTER_OTLP_ENDPOINT]] as const).map(async ([name, url]): Promise<Check> => {
        if (!url) return { name, ok: true, detail: 'not configured (optional)', optional: true };
        const problem = await probe(url, DIAGNOSIS_TIMEOUT_MS);
        const shown = maskUrlCredentials(url);
        return { name, ok: problem === null, detail: problem === null ? `${shown} reachable` : `${shown}: ${problem}`, fix: 'network: start it, fix the URL, or unset the variable (it is optional)' };
      }),
    );
    let heldFault: HeldFault | null = null;
    if (target.kind === 'pglite' && target.dataDir && !existsSync(join(target.dataDir, 'PG_VERSION'))) {
      // A diagnosis changes nothing, so it does not create the embedded database either (that takes seconds).
      checks.push({ name: 'database', ok: true, detail: `${describeTarget(target)}; not created yet: the first \`ktrdr-agent tick\` (or \`ktrdr-agent db migrate\`) creates it` });
    } else {
      try {
        // A diagnosis changes nothing: migrations are reported, not applied.
        const store = await openStore(target, { migrate: false, lockWaitMs: s.AGENT_LOCK_WAIT_SECONDS * 1000 });
        const status = await migrationStatus(store.db);
        heldFault = status.pending.length === 0 ? (await readControl(store.db)).fault : null;
        await store.close();
        checks.push({ name: 'database', ok: status.pending.length === 0, detail: `${describeTarget(target)}; ${status.applied.length} migration(s) applied, ${status.pending.length} pending`, fix: 'run `ktrdr-agent db migrate`' });
      } catch (error) {
        checks.push({ name: 'database', ok: false, detail: (error as Error).message, fix: 'check DATABASE_URL (or the data dir for PGlite)' });
      }
    }
    if (heldFault) {
      const banner = heldFaultBanner(heldFault, new Date());
      checks.push({ name: 'invocations', ok: false, detail: banner.message, fix: banner.advice });
    }
    const ktrdrResult = await ktrdrCheck;
    const ktrdrUp = ktrdrResult.ok;
    checks.push(ktrdrResult);
    const probeName = `ktrdr_agent_doctor_probe`;
    try {
      if (!s.KTRDR_STRATEGIES_DIR) mkdirSync(config.strategiesDir, { recursive: true });
      const store = new StrategyStore(config.strategiesDir);
      const saved = await store.save(probeName, {
        name: probeName,
        version: '3.0',
        description: 'ktrdr-agent doctor probe (deleted right away)',
        training_data: { symbols: { mode: 'single', symbol: 'EURUSD' }, timeframes: { mode: 'single', timeframe: '1h' }, history_required: 100 },
        indicators: { rsi_14: { type: 'rsi', period: 14 } },
        fuzzy_sets: { rsi_zones: { indicator: 'rsi_14', oversold: [0, 25, 40], overbought: [60, 75, 100] } },
        nn_inputs: [{ fuzzy_set: 'rsi_zones', timeframes: 'all' }],
        model: { type: 'mlp', architecture: { hidden_layers: [8] } },
        decisions: { output_format: 'classification' },
        training: { epochs: 1 },
      }, { allowOverwriteSame: true });
      let detail = `${config.strategiesDir} writable`;
      let ok = true;
      if (ktrdrUp) {
        const validation = await ktrdr.validateStrategy(probeName).catch((error: unknown) => error as Error);
        if (validation instanceof Error) {
          ok = false;
          detail += `; KTRDR cannot see the probe strategy (${validation.message}): it reads another directory`;
        } else detail += '; KTRDR reads the same directory';
      }
      rmSync(saved.path, { force: true });
      checks.push({ name: 'strategies directory', ok, detail, fix: "set KTRDR_STRATEGIES_DIR to KTRDR's strategies folder" });
    } catch (error) {
      rmSync(join(config.strategiesDir, `${probeName}.yaml`), { force: true });
      checks.push({ name: 'strategies directory', ok: false, detail: (error as Error).message, fix: "create it, or set KTRDR_STRATEGIES_DIR to KTRDR's strategies folder" });
    }
    if (s.AGENT_DESIGNER === 'claude') {
      for (const warning of modelWarnings(s)) {
        checks.push({ name: 'model lifecycle', ok: true, detail: `warning: ${warning}`, optional: true });
      }
      if (!s.ANTHROPIC_API_KEY) {
        checks.push({ name: 'Anthropic API key', ok: false, detail: 'ANTHROPIC_API_KEY is not set', fix: 'set ANTHROPIC_API_KEY, or AGENT_DESIGNER=baseline' });
      } else if (flags.online) {
        try {
          const { createAnthropicClient } = await import('../core/agent/anthropic-client.ts');
          const client = createAnthropicClient({ apiKey: s.ANTHROPIC_API_KEY, ...(s.ANTHROPIC_BASE_URL ? { baseURL: s.ANTHROPIC_BASE_URL } : {}), maxRetries: 1, timeoutMs: 10_000 });
          await client.models.retrieve(s.AGENT_MODEL);
          checks.push({ name: 'Anthropic API key', ok: true, detail: `authenticated; model ${s.AGENT_MODEL} available` });
        } catch (error) {
          checks.push({ name: 'Anthropic API key', ok: false, detail: (error as Error).message.slice(0, 200), fix: anthropicAdvice(error) });
        }
      } else {
        checks.push({ name: 'Anthropic API key', ok: true, detail: 'set (use --online to make an authenticated call)' });
      }
    } else {
      checks.push({ name: 'Anthropic API key', ok: true, detail: `not needed: ${s.AGENT_DESIGNER} designer (optional)`, optional: true });
    }
    checks.push(...(await telemetry));
    return this.report(checks, checks.some((c) => !c.ok) ? 1 : 0);
  }

  private report(found: Check[], exitCode: number) {
    // Like every command's output, the checklist never shows a secret (an error message may quote one).
    const checks = found.map((check) => ({ ...check, detail: redactSecrets(check.detail), ...(check.fix ? { fix: redactSecrets(check.fix) } : {}) }));
    if (!this.jsonEnabled()) {
      for (const check of checks) {
        // An optional part that is not configured is neither passed nor failed: it gets a dash, not a tick.
        const mark = check.optional ? paint('–', 'gray') : check.ok ? paint('✓', 'green') : paint('✗', 'red');
        this.log(`${mark} ${check.name}: ${check.detail}`);
        if (!check.ok && check.fix) this.log(`    fix: ${check.fix}`);
      }
      this.log(exitCode === 0 ? '\nEverything looks right.' : '\nSomething needs fixing (see above).');
    }
    process.exitCode = exitCode;
    return { ok: exitCode === 0, checks };
  }
}
