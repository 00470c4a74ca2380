import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { binRun, runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';
import { ExitCode } from '../../src/core/kernel/errors.ts';

/** A PATH whose `crontab` keeps the user's crontab in a file, as cron's does in its spool. */
function fakeCron(dir: string): { path: string; crontab: () => string } {
  const bin = join(dir, 'fake-bin');
  const spool = join(dir, 'crontab');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'crontab'),
    `#!/bin/sh\nif [ "$1" = "-l" ]; then [ -f '${spool}' ] || { echo "no crontab for user" >&2; exit 1; }; cat '${spool}'; else cat > '${spool}'; fi\n`,
  );
  chmodSync(join(bin, 'crontab'), 0o755);
  return { path: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, crontab: () => (existsSync(spool) ? readFileSync(spool, 'utf8') : '') };
}

describe('schedule (built CLI)', () => {
  test('--cron: quoted paths, node found through PATH (not a resolved binary), --agent-env, mail only when the state changes', async () => {
    const home = tempDir('ktrdr-agent schedule %s-');
    const codeDir = tempDir('ktrdr-agent-exit-');
    try {
      const envFile = join(home.path, 'agent.env');
      writeFileSync(envFile, 'AGENT_DESIGNER=baseline\n');
      const result = await runCli(['schedule', '--cron', '--agent-env', envFile], { HOME: home.path, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` });
      assert.equal(result.code, 0, result.stderr);
      const line = result.stdout.trim();
      assert.ok(line.startsWith(`*/5 * * * * PATH='${dirname(process.execPath)}:`), line);
      // The home has a space and a % in its name: quoted, and % escaped for cron.
      const cronPath = (path: string) => `'${path.replaceAll('%', '\\%')}'`;
      const tick = `${cronPath(binRun)} tick --agent-env ${cronPath(envFile)}`;
      assert.ok(line.includes(tick), line);
      assert.ok(!line.includes(process.execPath), 'the line names node by PATH, not by the binary an upgrade replaces');
      assert.match(line, /# ktrdr-agent tick$/);

      // Run the job as cron does (after cron's own % handling), with a stand-in tick exiting as told.
      const codeFile = join(codeDir.path, 'next-exit');
      const job = line
        .replace(/^(\S+\s+){5}/, '')
        .replace(tick, `sh -c 'echo "{\\"exit\\":$(cat ${codeFile})}" >&2; exit $(cat ${codeFile})'`)
        .replaceAll('\\%', '%');
      const runAs = (code: number) => {
        writeFileSync(codeFile, String(code));
        return spawnSync('/bin/sh', ['-c', job], { encoding: 'utf8', env: { HOME: home.path, PATH: '/usr/bin:/bin' } });
      };
      const mails = [0, 5, 5, 5, 2, 2, 0, 0].map((code) => runAs(code).stdout);
      assert.equal(mails[0], '');
      assert.match(
        mails[1]!,
        /^ktrdr-agent tick is failing: exit 5 since .* \(ktrdr-agent --help lists the exit codes\)\. No more mail until this changes; .*tick\.log' keeps every line\. Its last lines:\n/,
      );
      assert.match(mails[1]!, /\{"exit":5\}\n$/);
      assert.deepEqual(mails.slice(2, 4), ['', ''], 'a failing state mails once');
      assert.match(mails[4]!, /^ktrdr-agent tick is failing: exit 2 /, 'a new failing code is a new state');
      assert.equal(mails[5], '');
      assert.match(mails[6]!, /^ktrdr-agent tick works again since .*, after failing with exit 2\.\n$/);
      assert.equal(mails[7], '');
      // The log keeps every line.
      const log = readFileSync(join(home.path, '.local', 'state', 'ktrdr-agent', 'tick.log'), 'utf8');
      assert.equal(log.split('\n').filter(Boolean).length, 8);
    } finally {
      codeDir.remove();
      home.remove();
    }
  });

  test('--cron --install, again (nothing changed), then --uninstall, which keeps the other lines', async () => {
    const home = tempDir('ktrdr-agent-schedule-');
    try {
      const cron = fakeCron(home.path);
      writeFileSync(join(home.path, 'crontab'), 'MAILTO=ops@example.org\n0 3 * * * /usr/local/bin/backup\n');
      const env = { HOME: home.path, PATH: cron.path };
      const installed = await runCli(['schedule', '--cron', '--install'], env);
      assert.equal(installed.code, 0, installed.stderr);
      assert.match(cron.crontab(), /^MAILTO=ops@example\.org\n0 3 \* \* \* \/usr\/local\/bin\/backup\n\*\/5 \* \* \* \* .* # ktrdr-agent tick\n$/);
      const again = await runCli(['schedule', '--cron', '--install'], env);
      assert.match(again.stdout, /already in the crontab; nothing changed/);
      assert.equal(cron.crontab().match(/ktrdr-agent tick\n/g)?.length, 1);

      const removed = await runCli(['schedule', '--uninstall'], env);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /^Removed from the crontab:\n\*\/5 /);
      assert.equal(cron.crontab(), 'MAILTO=ops@example.org\n0 3 * * * /usr/local/bin/backup\n');
      const nothing = await runCli(['schedule', '--uninstall'], env);
      assert.equal(nothing.code, 0);
      assert.match(nothing.stdout, /No ktrdr-agent schedule found/);
    } finally {
      home.remove();
    }
  });

  test('--systemd: one way to read settings (--agent-env, no EnvironmentFile), no network-online.target in a user unit', async () => {
    const home = tempDir('ktrdr-agent-schedule-');
    try {
      const envFile = join(home.path, 'agent.env');
      writeFileSync(envFile, 'AGENT_DESIGNER=baseline\n');
      const result = await runCli(['schedule', '--systemd', '--agent-env', envFile], { HOME: home.path });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /OnCalendar=\*:0\/5/);
      assert.match(result.stdout, /Persistent=true/);
      assert.match(result.stdout, /Type=oneshot/);
      assert.ok(result.stdout.includes(`ExecStart="${binRun}" tick --agent-env "${envFile}"`), result.stdout);
      assert.doesNotMatch(result.stdout, /EnvironmentFile=/);
      assert.doesNotMatch(result.stdout, /network-online/);

      const missing = await runCli(['schedule', '--systemd'], { HOME: home.path });
      assert.match(missing.stderr, /does not exist/);
      assert.doesNotMatch(missing.stdout, /--agent-env/);
    } finally {
      home.remove();
    }
  });

  test('the command the mail names, `ktrdr-agent --help`, lists every exit code', async () => {
    const help = await runCli(['--help'], { HOME: '/nonexistent' });
    assert.equal(help.code, 0, help.stderr);
    const block = help.stdout.slice(help.stdout.indexOf('EXIT CODES'), help.stdout.indexOf('TOPICS'));
    const listed = [...block.matchAll(/^\s*(\d)\s{2}\S/gm)].map((match) => Number(match[1]));
    assert.deepEqual(
      listed,
      Object.values(ExitCode).sort((a, b) => a - b),
      block,
    );
  });

  test('--systemd --install writes and enables the user units; --uninstall stops the timer and removes them', async () => {
    const home = tempDir('ktrdr-agent-schedule-');
    try {
      // A systemctl that records what it was asked, beside a crontab of the test's own (never the machine's).
      const cron = fakeCron(home.path);
      const bin = join(home.path, 'fake-bin');
      const calls = join(home.path, 'systemctl.calls');
      writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
      chmodSync(join(bin, 'systemctl'), 0o755);
      const env = { HOME: home.path, PATH: cron.path };
      const units = join(home.path, '.config', 'systemd', 'user');
      const installed = await runCli(['schedule', '--systemd', '--install'], env);
      assert.equal(installed.code, 0, installed.stderr);
      assert.ok(existsSync(join(units, 'ktrdr-agent-tick.service')) && existsSync(join(units, 'ktrdr-agent-tick.timer')));
      const removed = await runCli(['schedule', '--uninstall'], env);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /Stopped ktrdr-agent-tick\.timer and removed /);
      assert.ok(!existsSync(join(units, 'ktrdr-agent-tick.service')) && !existsSync(join(units, 'ktrdr-agent-tick.timer')));
      assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
        '--user daemon-reload',
        '--user enable --now ktrdr-agent-tick.timer',
        '--user disable --now ktrdr-agent-tick.timer',
        '--user daemon-reload',
      ]);
    } finally {
      home.remove();
    }
  });
});
