import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parsePriceOverrides } from '../budget/pricing.ts';
import { modelProblems } from './model-checks.ts';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { maskSecret, maskUrlCredentials, registerSecret } from '../kernel/secrets.ts';
import { defaultConfigDir, defaultDataDir, isSecretSetting, settingDefinitions, settingNames, type SettingName, type Settings } from './schema.ts';
import { closestName, readEnvFile } from './env-file.ts';

export type SettingSource = { kind: 'environment' } | { kind: 'file'; path: string; line: number } | { kind: 'default' };

export interface AgentConfig {
  settings: Settings;
  sources: Record<SettingName, SettingSource>;
  dataDir: string;
  strategiesDir: string;
  envFiles: string[];
  /** Standard OTEL_* variables found in env files (the environment's own are read directly from it). */
  otelFromFiles: Record<string, string>;
  /** What an operator should know but that does not stop the command (an unknown key in an env file). */
  warnings: string[];
}

export interface ConfigProblem {
  name: string;
  given: string;
  expected: string;
  /** Where the bad value came from: "the environment" or "FILE:LINE". */
  from?: string;
}

export class ConfigError extends AgentError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.name}=${p.given}${p.from ? ` (from ${p.from})` : ''}: ${p.expected}`);
    super(
      `Invalid configuration (${problems.length} setting${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}\n` +
        'Fix these in the environment or the env file, then run `ktrdr-agent config` to check.',
      ExitCode.NotConfigured,
      'invalid_configuration',
    );
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** --agent-env (or its deprecated name --env-file) given on the command line. */
  envFile?: string;
  /** Read no env file at all (the demo runs in a sandbox of its own). */
  ignoreEnvFiles?: boolean;
}

/**
 * Env files fill in what the environment does not set; the environment always wins. Cron gives an almost empty
 * environment, so the user's config dir is read by default.
 */
function envFileCandidates(env: NodeJS.ProcessEnv, flagFile: string | undefined): { path: string; required: boolean }[] {
  const files: { path: string; required: boolean }[] = [];
  if (flagFile) files.push({ path: resolve(flagFile), required: true });
  if (env.KTRDR_AGENT_ENV_FILE) files.push({ path: resolve(env.KTRDR_AGENT_ENV_FILE), required: true });
  files.push({ path: join(defaultConfigDir(env), 'agent.env'), required: false });
  return files;
}

/** Names an env file may hold besides the settings: the standard OpenTelemetry variables. */
function isKnownFileKey(key: string): boolean {
  return (settingNames as readonly string[]).includes(key) || key.startsWith('OTEL_');
}

/** Where a bad value came from, for its problem line: "FILE:LINE" or "the environment". */
function origin(source: SettingSource): { from?: string } {
  if (source.kind === 'file') return { from: `${source.path}:${source.line}` };
  return source.kind === 'environment' ? { from: 'the environment' } : {};
}

function describeGiven(name: SettingName, raw: string): string {
  if (isSecretSetting(name)) return maskSecret(raw);
  const shown = maskUrlCredentials(raw);
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
}

/**
 * Every secret the configuration holds goes into the one registry that logs, errors, the database and traces are
 * redacted with: wherever it came from (the environment or an env file), and for every command.
 */
function registerConfiguredSecrets(settings: Settings, otel: Record<string, string | undefined>): void {
  for (const name of settingNames) {
    const value = settings[name];
    if (typeof value !== 'string') continue;
    if (isSecretSetting(name)) registerSecret(value);
    else if (value.includes('@')) registerUrlPassword(value);
  }
  for (const [name, value] of Object.entries(otel)) {
    if (!name.startsWith('OTEL_') || !value) continue;
    if (/HEADERS$/.test(name)) for (const pair of value.split(',')) registerSecret(pair.slice(pair.indexOf('=') + 1).trim());
    else if (/ENDPOINT$/.test(name)) registerUrlPassword(value);
  }
}

function registerUrlPassword(value: string): void {
  try {
    const password = new URL(value).password;
    if (password) {
      registerSecret(password);
      registerSecret(decodeURIComponent(password));
    }
  } catch {
    // Not a URL: nothing to register.
  }
}

export function loadConfig(options: LoadConfigOptions = {}): AgentConfig {
  const env = options.env ?? process.env;
  const fileValues = new Map<string, { value: string; path: string; line: number }>();
  const envFiles: string[] = [];
  const warnings: string[] = [];
  for (const candidate of options.ignoreEnvFiles ? [] : envFileCandidates(env, options.envFile)) {
    if (!existsSync(candidate.path)) {
      if (candidate.required) {
        throw new AgentError(
          `Env file not found: ${candidate.path}. Create it or point --agent-env / KTRDR_AGENT_ENV_FILE at an existing file.`,
          ExitCode.NotConfigured,
          'env_file_missing',
        );
      }
      continue;
    }
    envFiles.push(candidate.path);
    for (const [key, entry] of readEnvFile(candidate.path)) {
      if (!isKnownFileKey(key)) {
        const suggestion = closestName(key, settingNames);
        warnings.push(`${candidate.path}:${entry.line}: unknown setting ${key}, ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
        continue;
      }
      if (!fileValues.has(key)) fileValues.set(key, { value: entry.value, path: candidate.path, line: entry.line });
    }
  }

  const problems: ConfigProblem[] = [];
  const settings: Record<string, unknown> = {};
  const sources = {} as Record<SettingName, SettingSource>;
  for (const name of settingNames) {
    // The first source that names a setting decides it; an empty value there means "unset, use the default".
    let raw: string | undefined;
    let source: SettingSource = { kind: 'default' };
    const fromEnv = env[name];
    const fromFile = fileValues.get(name);
    if (fromEnv !== undefined) {
      raw = fromEnv === '' ? undefined : fromEnv;
      source = raw === undefined ? { kind: 'default' } : { kind: 'environment' };
    } else if (fromFile) {
      raw = fromFile.value === '' ? undefined : fromFile.value;
      source = raw === undefined ? { kind: 'default' } : { kind: 'file', path: fromFile.path, line: fromFile.line };
    }
    const parsed = settingDefinitions[name].schema.safeParse(raw);
    if (parsed.success) {
      settings[name] = parsed.data;
    } else {
      problems.push({
        name,
        given: raw === undefined ? '(unset)' : describeGiven(name, raw),
        expected: [...new Set(parsed.error.issues.map((issue) => issue.message))].join('; '),
        ...origin(source),
      });
    }
    sources[name] = source;
  }
  const typed = settings as Settings;
  if (problems.length === 0 && typed.AGENT_BUDGET_BUFFER_USD > typed.AGENT_BUDGET_DAILY_USD && typed.AGENT_BUDGET_DAILY_USD > 0) {
    problems.push({
      name: 'AGENT_BUDGET_BUFFER_USD',
      given: String(typed.AGENT_BUDGET_BUFFER_USD),
      expected: `a buffer no larger than AGENT_BUDGET_DAILY_USD (${typed.AGENT_BUDGET_DAILY_USD})`,
      ...origin(sources.AGENT_BUDGET_BUFFER_USD),
    });
  }
  if (problems.length === 0 && typed.AGENT_MODEL_PRICES && typed.AGENT_BUDGET_ENFORCEMENT) {
    // A model priced at zero costs nothing in the books, which silently turns the budget off for it.
    const free = Object.values(parsePriceOverrides(typed.AGENT_MODEL_PRICES)).filter(
      (price) => price.input === 0 && price.output === 0 && price.cacheWrite5m === 0 && price.cacheWrite1h === 0 && price.cacheRead === 0,
    );
    if (free.length > 0) {
      problems.push({
        name: 'AGENT_MODEL_PRICES',
        given: JSON.stringify(typed.AGENT_MODEL_PRICES.length > 80 ? `${typed.AGENT_MODEL_PRICES.slice(0, 77)}...` : typed.AGENT_MODEL_PRICES),
        expected: `a price above zero for ${free.map((p) => p.model).join(', ')} (all-zero rates would switch the budget off; to run without one, set AGENT_BUDGET_ENFORCEMENT=false)`,
        ...origin(sources.AGENT_MODEL_PRICES),
      });
    }
  }
  if (problems.length === 0 && typed.AGENT_DESIGNER === 'claude') {
    problems.push(...modelProblems(typed).map((problem) => ({ ...problem, ...origin(sources[problem.name as SettingName] ?? { kind: 'default' }) })));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolve(typed.KTRDR_AGENT_DATA_DIR ?? defaultDataDir(env));
  const strategiesDir = resolve(typed.KTRDR_STRATEGIES_DIR ?? join(dataDir, 'strategies'));
  const otelFromFiles = Object.fromEntries(
    [...fileValues].filter(([key, entry]) => key.startsWith('OTEL_') && env[key] === undefined && entry.value !== '').map(([key, entry]) => [key, entry.value]),
  );
  registerConfiguredSecrets(typed, { ...otelFromFiles, ...env });
  return { settings: typed, sources, dataDir, strategiesDir, envFiles, otelFromFiles, warnings };
}

/** The effective settings for display: secrets masked, each with where it came from. */
export function describeConfig(config: AgentConfig): { name: SettingName; value: string | null; source: string; secret: boolean }[] {
  return settingNames.map((name) => {
    const value = config.settings[name];
    const source = config.sources[name];
    const secret = isSecretSetting(name);
    let shown: string | null;
    if (value === undefined) shown = null;
    else if (secret) shown = maskSecret(String(value));
    else if (typeof value === 'object') shown = JSON.stringify(value);
    else shown = maskUrlCredentials(String(value));
    if (name === 'KTRDR_AGENT_DATA_DIR' && value === undefined) shown = config.dataDir;
    if (name === 'KTRDR_STRATEGIES_DIR' && value === undefined) shown = config.strategiesDir;
    return {
      name,
      value: shown,
      source: source.kind === 'file' ? `file ${source.path}:${source.line}` : source.kind,
      secret,
    };
  });
}
