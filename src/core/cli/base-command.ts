import { Command, Flags, Errors, type Interfaces } from '@oclif/core';
import { join } from 'node:path';
import { loadConfig, type AgentConfig } from '../config/load.ts';
import { AgentError, ExitCode } from '../kernel/errors.ts';
import { reportError } from './report-error.ts';
import { terminalOutput } from './terminal-text.ts';
import { unknownFlagAdvice } from './suggest.ts';
import { shownUsd } from '../budget/money.ts';

/** The codes every command can return; a command adds its own (see `exitCodesHelpWith`). */
const commonExitCodes: Partial<Record<ExitCode, string>> = {
  [ExitCode.Success]: 'success',
  [ExitCode.Error]: 'error (database unreachable, unexpected failure, bad usage)',
  [ExitCode.NotConfigured]: 'not configured (invalid or missing settings)',
};

/** The EXIT CODES block of one command's --help: the common codes, with this command's own added or reworded. */
export function exitCodesHelpWith(own: Partial<Record<ExitCode, string>> = {}): string {
  const codes = { ...commonExitCodes, ...own };
  const lines = Object.entries(codes)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, meaning]) => `  ${code}  ${meaning}`);
  return `EXIT CODES\n${lines.join('\n')}`;
}

export const exitCodesHelp = exitCodesHelpWith();

/** Where `demo` keeps its sandbox, and the settings that point a command at it (the embedded database there). */
export function demoEnvironment(dataDir: string): Record<string, string> {
  const demoDir = join(dataDir, 'demo');
  return { KTRDR_AGENT_DATA_DIR: demoDir, DATABASE_URL: '', KTRDR_STRATEGIES_DIR: join(demoDir, 'strategies') };
}

/** Micro-dollars: the precision of the database's NUMERIC(14, 6) money columns. */
/** Rounds every number under a key that names an amount of dollars (`costUsd`, `remainingUsd`, ...), at any depth. */
export function roundMoney(value: unknown, key = ''): unknown {
  if (typeof value === 'number') return /usd$/i.test(key) && Number.isFinite(value) ? shownUsd(value) : value;
  if (Array.isArray(value)) return value.map((item) => roundMoney(item, key));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundMoney(v, k)]));
  }
  return value;
}

/**
 * The base of every command: loads the configuration (environment, then env files), turns AgentErrors into their
 * exit codes with one clear message (one JSON document under --json), and keeps secrets out of every error.
 */
export abstract class AgentCommand extends Command {
  static override baseFlags = {
    'agent-env': Flags.string({
      description: 'Read settings from this env file (the environment still wins). Also: KTRDR_AGENT_ENV_FILE, ~/.config/ktrdr-agent/agent.env',
      helpGroup: 'GLOBAL',
    }),
    // Node.js owns --env-file (it reads it itself unless `--` protects the script), hence --agent-env.
    'env-file': Flags.string({ description: 'Deprecated name of --agent-env (Node.js owns --env-file).', helpGroup: 'GLOBAL', hidden: true }),
    demo: Flags.boolean({
      description: "Read the demo's data (what `demo` left in <data dir>/demo) instead of the configured database.",
      helpGroup: 'GLOBAL',
    }),
  };

  private loadedConfig: AgentConfig | undefined;
  private baseFlagValues: { 'agent-env'?: string | undefined; 'env-file'?: string | undefined; demo?: boolean | undefined } = {};

  /** Keeps the global flags, so every command reads its settings through them however it calls loadAgentConfig. */
  protected override async parse<F extends Record<string, any>, B extends Record<string, any>, A extends Record<string, any>>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv);
    this.baseFlagValues = parsed.flags as typeof this.baseFlagValues;
    return parsed;
  }

  /** The env file the command line names: --agent-env, or the deprecated --env-file (with a note saying so). */
  protected envFileFlag(): string | undefined {
    const { 'agent-env': agentEnv, 'env-file': envFile } = this.baseFlagValues;
    if (agentEnv !== undefined && envFile !== undefined) {
      throw new AgentError('Give the env file once: --agent-env (--env-file is its old name).', ExitCode.Error, 'usage');
    }
    if (envFile !== undefined) process.stderr.write(`Warning: --env-file is deprecated (Node.js owns that name); use --agent-env ${envFile}.\n`);
    return agentEnv ?? envFile;
  }

  /** The settings in force: the environment and env files, or, with --demo, the demo's sandbox under the data dir. */
  protected loadAgentConfig(_flags?: unknown): AgentConfig {
    // Loading the configuration registers its secrets for redaction.
    const envFile = this.envFileFlag();
    const config = loadConfig({ envFile });
    this.loadedConfig = this.baseFlagValues.demo ? loadConfig({ env: { ...process.env, ...demoEnvironment(config.dataDir) }, ignoreEnvFiles: true }) : config;
    for (const warning of this.loadedConfig.warnings) process.stderr.write(`Warning: ${warning}\n`);
    return this.loadedConfig;
  }

  /** oclif's parse errors, said the way the rest of the CLI says things: what is wrong, and what was probably meant. */
  private usageAdvice(message: string): string {
    const command = this.id?.replaceAll(':', ' ') ?? '';
    const ctor = this.constructor as typeof AgentCommand;
    const flagNames = [...Object.keys(ctor.flags ?? {}), ...Object.keys(ctor.baseFlags ?? {}), ...(ctor.enableJsonFlag ? ['json'] : []), 'help'];
    const advised = unknownFlagAdvice(message, command, flagNames);
    if (advised !== message) return advised;
    const extra = /Unexpected arguments?: (.+)/.exec(message);
    if (extra) {
      const args = Object.keys(ctor.args ?? {});
      const takes =
        args.length === 0
          ? 'takes no arguments'
          : `takes ${args.length === 1 ? 'one argument' : `${args.length} arguments`} (${args.map((a) => `<${a}>`).join(' ')})`;
      return `\`${command}\` ${takes}; got an extra ${extra[1]!.split('\n')[0]}. See \`ktrdr-agent ${command} --help\`.`;
    }
    const missing = /^Missing (\d+) required args?:\n(\S+)/.exec(message);
    if (missing) {
      const args = Object.keys(ctor.args ?? {})
        .map((a) => `<${a}>`)
        .join(' ');
      return `\`${command}\` needs ${args || `<${missing[2]}>`}: e.g. \`ktrdr-agent ${command} 12\`. See \`ktrdr-agent ${command} --help\`.`;
    }
    return message.replace(/\nSee more help with --help$/, '');
  }

  /** Every human-readable line goes out without control characters but its own line breaks and colours. */
  override log(message = '', ...args: unknown[]): void {
    super.log(terminalOutput(String(message)), ...args);
  }

  /** Money in every --json document is kept to a fixed precision (micro-dollars, as the database stores it). */
  protected override toSuccessJson(result: unknown): unknown {
    return roundMoney(result);
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    if (error instanceof Errors.ExitError) {
      process.exitCode = error.oclif.exit;
      return;
    }
    // oclif's own usage errors (bad flags) are errors of the documented kind 1, not its default 2 ("not configured").
    const reported =
      error instanceof Errors.CLIError && !(error instanceof AgentError) ? new AgentError(this.usageAdvice(error.message), ExitCode.Error, 'usage') : error;
    process.exitCode = reportError(reported, { json: this.jsonEnabled() });
  }
}
