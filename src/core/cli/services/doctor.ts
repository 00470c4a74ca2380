// `doctor`: the installation checked, one probe each (configuration, database, KTRDR, strategies directory, the
// Anthropic key, telemetry endpoints), secrets masked. Its checklist is rendered by views/doctor-text.ts.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { modelWarnings } from '../../config/model-checks.ts';
import { ConfigError, loadConfig, type AgentConfig } from '../../config/load.ts';
import { describeTarget, openStore, storeTarget } from '../../db/connect.ts';
import { migrationStatus } from '../../db/migrate.ts';
import { readControl, type HeldFault } from '../../db/repositories/control.ts';
import { KtrdrClient } from '../../ktrdr/client.ts';
import { KtrdrError } from '../../ktrdr/errors.ts';
import { StrategyStore } from '../../strategy/store.ts';
import { basicAuthOf, maskUrlCredentials, redactSecrets } from '../../kernel/secrets.ts';
import { heldFaultBanner } from '../views/banners.ts';
import { CLOCK_SKEW_WARN_MS, describeKtrdrClock } from '../views/clock-banner.ts';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  optional?: boolean;
}

/** The checklist, secrets masked, and the exit code it calls for: 0 all well, 1 something broken, 2 bad settings. */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
  exitCode: number;
}

/** A diagnosis asks once, briefly: an unreachable KTRDR is reported within this, not retried. */
const DIAGNOSIS_TIMEOUT_MS = 2000;

/** Advice that fits how KTRDR failed: nothing listening, no answer, refused credentials, a wrong path, or a fault of its own. */
export function ktrdrAdvice(error: unknown, url: string): string {
  if (!(error instanceof KtrdrError)) return 'start KTRDR or set KTRDR_API_URL (try `ktrdr-agent sim serve` for the simulator)';
  if (error.kind === 'transport')
    return `network: nothing answers at ${url}; start KTRDR, or fix the host and port in KTRDR_API_URL (try \`ktrdr-agent sim serve\` for the simulator)`;
  if (error.kind === 'timeout')
    return `network: ${url} did not answer within ${DIAGNOSIS_TIMEOUT_MS / 1000} s; check that the host is up and no firewall drops the connection`;
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
    const authorization = basicAuthOf(target);
    const headers: Record<string, string> = authorization ? { authorization } : {};
    target.username = '';
    target.password = '';
    await fetch(target, { signal: AbortSignal.timeout(timeoutMs), method: 'GET', headers });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** One attempt, briefly: a diagnosis reports a KTRDR that is down, it does not wait out the retries of a tick. */
async function checkKtrdr(ktrdr: KtrdrClient, configuredUrl: string): Promise<DoctorCheck> {
  // A password in the URL is never shown, however short (the secret registry ignores values under 8 characters).
  const url = maskUrlCredentials(configuredUrl);
  try {
    await ktrdr.health();
    const workers = await ktrdr.listWorkers().catch(() => null);
    return { name: 'KTRDR', ok: true, detail: `${url} healthy${workers ? `; ${workers.length} worker(s)` : ''}${clockDetail(ktrdr.clockOffsetMs())}` };
  } catch (error) {
    return { name: 'KTRDR', ok: false, detail: `${url}: ${(error as Error).message}`, fix: ktrdrAdvice(error, url) };
  }
}

/** KTRDR's clock as its answers' Date header shows it; the skew check itself is `checkKtrdrClock`. */
function clockDetail(offsetMs: number | null): string {
  return offsetMs === null ? "; KTRDR's clock not measured (no Date header)" : `; ${describeKtrdrClock(offsetMs)}`;
}

/** A skew beyond CLOCK_SKEW_WARN_MS is a fault of the world: shown, with the fix, though the agent corrects for it. */
function checkKtrdrClock(ktrdr: KtrdrClient): DoctorCheck | null {
  const offsetMs = ktrdr.clockOffsetMs();
  if (offsetMs === null || Math.abs(offsetMs) <= CLOCK_SKEW_WARN_MS) return null;
  return {
    name: 'KTRDR clock',
    ok: false,
    detail: `${describeKtrdrClock(offsetMs)}, measured from its Date header; the agent corrects KTRDR's times by it, but a clock this far off is not synchronised`,
    fix: "synchronise both hosts' clocks (NTP, e.g. `timedatectl set-ntp true`)",
  };
}

/** The settings, or why they are invalid (the one failure that stops the diagnosis). */
function checkConfiguration(envFile: string | undefined): { config: AgentConfig | null; check: DoctorCheck } {
  try {
    const config = loadConfig(envFile ? { envFile } : {});
    const warnings = config.warnings.length ? `; ${config.warnings.join('; ')}` : '';
    return {
      config,
      check: { name: 'configuration', ok: true, detail: `${config.envFiles.length ? `valid (env files: ${config.envFiles.join(', ')})` : 'valid'}${warnings}` },
    };
  } catch (error) {
    if (error instanceof ConfigError) {
      return {
        config: null,
        check: {
          name: 'configuration',
          ok: false,
          detail: configurationDetail(error.message),
          fix: 'fix the listed variables; `ktrdr-agent config` shows the effective settings',
        },
      };
    }
    throw error;
  }
}

/** A configuration error's problem lines after its heading, without the advice line (the check has its own fix). */
function configurationDetail(message: string): string {
  const [heading = '', ...rest] = message.split('\n').slice(0, -1);
  return `${heading.replace(/:$/, '')}: ${rest.map((line) => line.trim()).join('; ')}`;
}

async function checkTelemetryEndpoint(name: string, url: string | undefined): Promise<DoctorCheck> {
  if (!url) return { name, ok: true, detail: 'not configured (optional)', optional: true };
  const problem = await probe(url, DIAGNOSIS_TIMEOUT_MS);
  const shown = maskUrlCredentials(url);
  return {
    name,
    ok: problem === null,
    detail: problem === null ? `${shown} reachable` : `${shown}: ${problem}`,
    fix: 'network: start it, fix the URL, or unset the variable (it is optional)',
  };
}

/** The database and its migrations, then, once it is up to date, a fault that holds invocations back. */
async function checkDatabase(config: AgentConfig): Promise<DoctorCheck[]> {
  const target = storeTarget(config);
  if (target.kind === 'pglite' && target.dataDir && !existsSync(join(target.dataDir, 'PG_VERSION'))) {
    // A diagnosis changes nothing, so it does not create the embedded database either (that takes seconds).
    return [
      {
        name: 'database',
        ok: true,
        detail: `${describeTarget(target)}; not created yet: the first \`ktrdr-agent tick\` (or \`ktrdr-agent db migrate\`) creates it`,
      },
    ];
  }
  let heldFault: HeldFault | null = null;
  let database: DoctorCheck;
  try {
    // A diagnosis changes nothing: migrations are reported, not applied.
    const store = await openStore(target, { migrate: false, lockWaitMs: config.settings.AGENT_LOCK_WAIT_SECONDS * 1000 });
    const status = await migrationStatus(store.db);
    heldFault = status.pending.length === 0 ? (await readControl(store.db)).fault : null;
    await store.close();
    // Pending migrations are not a fault: the next tick applies them by itself, under the migration lock.
    const pending =
      status.pending.length === 0 ? '' : `, ${status.pending.length} pending (the next tick applies them; \`ktrdr-agent db migrate\` does it now)`;
    database = { name: 'database', ok: true, detail: `${describeTarget(target)}; ${status.applied.length} migration(s) applied${pending || ', none pending'}` };
  } catch (error) {
    database = { name: 'database', ok: false, detail: (error as Error).message, fix: 'check DATABASE_URL (or the data dir for PGlite)' };
  }
  if (!heldFault) return [database];
  const banner = heldFaultBanner(heldFault, new Date(), config.settings.AGENT_FAULT_BACKOFF_MINUTES);
  return [database, { name: 'invocations', ok: false, detail: banner.message, fix: banner.advice }];
}

/** Writes a probe strategy and, when KTRDR is up, asks KTRDR to validate it: both must read the same directory. */
async function checkStrategiesDirectory(config: AgentConfig, reachableKtrdr: KtrdrClient | null): Promise<DoctorCheck> {
  const probeName = `ktrdr_agent_doctor_probe`;
  try {
    if (!config.settings.KTRDR_STRATEGIES_DIR) mkdirSync(config.strategiesDir, { recursive: true });
    const store = new StrategyStore(config.strategiesDir);
    const saved = await store.save(
      probeName,
      {
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
      },
      { allowOverwriteSame: true },
    );
    let detail = `${config.strategiesDir} writable`;
    let ok = true;
    if (reachableKtrdr) {
      const validation = await reachableKtrdr.validateStrategy(probeName).catch((error: unknown) => error as Error);
      if (validation instanceof Error) {
        ok = false;
        detail += `; KTRDR cannot see the probe strategy (${validation.message}): it reads another directory`;
      } else detail += '; KTRDR reads the same directory';
    }
    rmSync(saved.path, { force: true });
    return { name: 'strategies directory', ok, detail, fix: "set KTRDR_STRATEGIES_DIR to KTRDR's strategies folder" };
  } catch (error) {
    rmSync(join(config.strategiesDir, `${probeName}.yaml`), { force: true });
    return {
      name: 'strategies directory',
      ok: false,
      detail: (error as Error).message,
      fix: "create it, or set KTRDR_STRATEGIES_DIR to KTRDR's strategies folder",
    };
  }
}

/** The model's lifecycle warnings and the API key; with `online`, one authenticated call that costs nothing. */
async function checkAnthropic(s: AgentConfig['settings'], online: boolean): Promise<DoctorCheck[]> {
  if (s.AGENT_DESIGNER !== 'claude') {
    return [{ name: 'Anthropic API key', ok: true, detail: `not needed: ${s.AGENT_DESIGNER} designer (optional)`, optional: true }];
  }
  const checks: DoctorCheck[] = modelWarnings(s).map((warning) => ({ name: 'model lifecycle', ok: true, detail: `warning: ${warning}`, optional: true }));
  if (!s.ANTHROPIC_API_KEY) {
    checks.push({ name: 'Anthropic API key', ok: false, detail: 'ANTHROPIC_API_KEY is not set', fix: 'set ANTHROPIC_API_KEY, or AGENT_DESIGNER=baseline' });
  } else if (online) {
    try {
      const { createAnthropicClient } = await import('../../agent/anthropic-client.ts');
      const client = createAnthropicClient({
        apiKey: s.ANTHROPIC_API_KEY,
        ...(s.ANTHROPIC_BASE_URL ? { baseURL: s.ANTHROPIC_BASE_URL } : {}),
        maxRetries: 1,
        timeoutMs: 10_000,
      });
      await client.models.retrieve(s.AGENT_MODEL);
      checks.push({ name: 'Anthropic API key', ok: true, detail: `authenticated; model ${s.AGENT_MODEL} available` });
    } catch (error) {
      checks.push({ name: 'Anthropic API key', ok: false, detail: (error as Error).message.slice(0, 200), fix: anthropicAdvice(error) });
    }
  } else {
    checks.push({ name: 'Anthropic API key', ok: true, detail: 'set (use --online to make an authenticated call)' });
  }
  return checks;
}

/**
 * Checks the installation: configuration, database, KTRDR, strategies directory, API key, telemetry endpoints.
 * Changes nothing (no database is created, no migration applied); a probe strategy is written and removed.
 */
export async function runDoctor(options: { envFile?: string | undefined; online: boolean }): Promise<DoctorReport> {
  const configuration = checkConfiguration(options.envFile);
  const config = configuration.config;
  if (!config) return doctorReport([configuration.check], 2);
  const s = config.settings;
  // KTRDR and the telemetry endpoints are asked while the database opens (PGlite's start-up alone takes seconds):
  // a diagnosis with KTRDR down costs the longer of the two, not their sum.
  const ktrdr = new KtrdrClient({ baseUrl: s.KTRDR_API_URL, timeoutMs: DIAGNOSIS_TIMEOUT_MS, retry: { maxAttempts: 1, backoffBaseSeconds: 0 } });
  const ktrdrCheck = checkKtrdr(ktrdr, s.KTRDR_API_URL);
  const telemetry = Promise.all([
    checkTelemetryEndpoint('Pushgateway', s.PUSHGATEWAY_URL),
    checkTelemetryEndpoint('OTLP endpoint', s.OTEL_EXPORTER_OTLP_ENDPOINT),
  ]);
  const checks = [configuration.check, ...(await checkDatabase(config))];
  const ktrdrResult = await ktrdrCheck;
  checks.push(ktrdrResult);
  const clockCheck = checkKtrdrClock(ktrdr);
  if (clockCheck) checks.push(clockCheck);
  checks.push(await checkStrategiesDirectory(config, ktrdrResult.ok ? ktrdr : null));
  checks.push(...(await checkAnthropic(s, options.online)));
  checks.push(...(await telemetry));
  return doctorReport(checks, checks.some((c) => !c.ok) ? 1 : 0);
}

function doctorReport(found: DoctorCheck[], exitCode: number): DoctorReport {
  // Like every command's output, the checklist never shows a secret (an error message may quote one).
  const checks = found.map((check) => ({ ...check, detail: redactSecrets(check.detail), ...(check.fix ? { fix: redactSecrets(check.fix) } : {}) }));
  return { ok: exitCode === 0, checks, exitCode };
}
