import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../core/cli/base-command.ts';
import { AgentError, ExitCode } from '../core/kernel/errors.ts';
import { defaultConfigDir } from '../core/config/schema.ts';

export default class Schedule extends AgentCommand {
  static override summary = 'Print (or install) a crontab line or systemd units that run `tick` every 5 minutes.';
  static override description = `Uses the absolute paths of this installation and the env file (cron and systemd give an almost empty environment).\n\n${exitCodesHelp}`;
  static override flags = {
    cron: Flags.boolean({ description: 'A crontab line.', exactlyOne: ['cron', 'systemd'] }),
    systemd: Flags.boolean({ description: 'A systemd service and timer (user units).', exactlyOne: ['cron', 'systemd'] }),
    install: Flags.boolean({ description: 'Install it: append to the crontab, or write the user units and enable the timer.' }),
  };
  static override examples = ['<%= config.bin %> schedule --cron', '<%= config.bin %> schedule --systemd --install'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Schedule);
    const node = process.execPath;
    const bin = resolve(this.config.root, 'bin', 'run.js');
    const envFile = flags['env-file'] ? resolve(flags['env-file']) : (process.env.KTRDR_AGENT_ENV_FILE ?? join(defaultConfigDir(process.env), 'agent.env'));
    // Cron and systemd start with an almost empty environment: the settings must come from the env file.
    const hasEnvFile = existsSync(envFile);
    if (!hasEnvFile) {
      process.stderr.write(
        `Warning: ${envFile} does not exist. Cron and systemd give the tick an almost empty environment: put DATABASE_URL, KTRDR_API_URL, ANTHROPIC_API_KEY and the rest there (\`ktrdr-agent config\` shows what is in effect).\n`,
      );
    }
    // '--' ends Node's own options, so Node never claims the --env-file meant for the CLI. --liftoff-only is the
    // shebang's flag (bin/run.js): without it a PGlite tick peaks at ~640 MiB instead of ~280 MiB.
    const command = `${node} --liftoff-only -- ${bin} tick${hasEnvFile ? ` --env-file ${envFile}` : ''}`;
    if (flags.cron) {
      const logDir = join(homedir(), '.local', 'state', 'ktrdr-agent');
      // The redirection fails (and the tick never runs) when the directory is missing.
      mkdirSync(logDir, { recursive: true });
      // Cron mails what a job prints, not its exit code: the log takes every line, and only a failing tick (exit
      // code not 0) prints, so cron mails on the first failing tick and stays quiet on a healthy one.
      const log = join(logDir, 'tick.log');
      const line = `*/5 * * * * ${command} >> ${log} 2>&1 || { echo "ktrdr-agent tick failed with exit $? (see ktrdr-agent --help for the codes); the last lines of ${log}:"; tail -n 5 ${log}; }`;
      if (!flags.install) {
        this.log(line);
        return;
      }
      let current = '';
      try {
        current = execFileSync('crontab', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        current = '';
      }
      if (current.includes(`${bin} tick`)) {
        this.log('A ktrdr-agent tick line is already in the crontab; nothing changed.');
        return;
      }
      try {
        execFileSync('crontab', ['-'], { input: `${current}${current.endsWith('\n') || current === '' ? '' : '\n'}${line}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
      } catch (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        throw new AgentError(
          missing
            ? `There is no \`crontab\` command on this machine, so nothing was installed. Install cron (Debian/Ubuntu: \`sudo apt-get install cron\`), or use a systemd timer: \`ktrdr-agent schedule --systemd --install\`. The line to add is:\n${line}`
            : `crontab refused the new line (${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()}); nothing was installed. Add it with \`crontab -e\`:\n${line}`,
          ExitCode.Error,
          'crontab',
        );
      }
      this.log(`Installed in the crontab:\n${line}`);
      return;
    }
    const service = `[Unit]
Description=ktrdr-agent trigger pass
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
${hasEnvFile ? `EnvironmentFile=${envFile}\n` : ''}ExecStart=${command}
TimeoutStartSec=15min
`;
    const timer = `[Unit]
Description=Run the ktrdr-agent trigger pass every 5 minutes

[Timer]
OnCalendar=*:0/5
Persistent=true
RandomizedDelaySec=10s

[Install]
WantedBy=timers.target
`;
    if (!flags.install) {
      this.log(`# ~/.config/systemd/user/ktrdr-agent-tick.service\n${service}\n# ~/.config/systemd/user/ktrdr-agent-tick.timer\n${timer}`);
      this.log('# Install with: ktrdr-agent schedule --systemd --install');
      this.log('# User timers stop at logout unless lingering is on: loginctl enable-linger $USER');
      return;
    }
    const dir = join(homedir(), '.config/systemd/user');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'ktrdr-agent-tick.service'), service);
    writeFileSync(join(dir, 'ktrdr-agent-tick.timer'), timer);
    try {
      execFileSync('systemctl', ['--user', 'daemon-reload'], { stdio: 'ignore' });
      execFileSync('systemctl', ['--user', 'enable', '--now', 'ktrdr-agent-tick.timer'], { stdio: 'ignore' });
    } catch (error) {
      throw new AgentError(`Units written to ${dir}, but enabling the timer failed (${(error as Error).message}). Run: systemctl --user enable --now ktrdr-agent-tick.timer`, ExitCode.Error, 'systemd');
    }
    this.log(`Installed and enabled ktrdr-agent-tick.timer (units in ${dir}).`);
    this.log('User timers stop at logout unless lingering is on: loginctl enable-linger $USER');
  }
}
