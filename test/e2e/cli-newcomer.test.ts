import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { binRun, repoRoot, runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

/** The commands of the README's quick start: its first bash block, one command a line, comments dropped. */
function quickStartCommands(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Quick start\n'));
  const block = /```bash\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the quick start has a bash block');
  return block[1]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** A newcomer's shell: a fresh HOME, and PATH with nothing of ours on it (the Node that runs this test, the system). */
function newcomerEnv(home: string): Record<string, string> {
  return { HOME: home, PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, NO_COLOR: '1' };
}

function shell(command: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('/bin/sh', ['-c', command], { cwd: repoRoot, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('a newcomer (fresh HOME, the README as written)', () => {
  test("the quick start's commands, then every command the demo's next steps print, each exit 0", () => {
    const commands = quickStartCommands();
    // `npm test` is the second command and what CI runs (.ci/run calls the README's test command); running the whole
    // suite from inside it would recurse, so it is checked to be there and to be CI's, not run.
    assert.deepEqual(commands.slice(1), ['npm test']);
    assert.match(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8'), /^npm test$/m);
    const home = tempDir('ktrdr-agent-newcomer-');
    try {
      const env = newcomerEnv(home.path);
      const quickStart = shell(commands[0]!, env);
      assert.equal(quickStart.status, 0, `${commands[0]} exited ${quickStart.status}:\n${quickStart.stdout.slice(-3000)}\n${quickStart.stderr.slice(-3000)}`);
      assert.match(quickStart.stdout, /cycle\(s\) finished: [1-9]\d* successful/);

      const nextSteps = quickStart.stdout.slice(quickStart.stdout.lastIndexOf('\nNext steps\n'));
      const printed = [...nextSteps.matchAll(/^\s+\$ (.+)$/gm)].map((match) => match[1]!);
      assert.ok(printed.length >= 4, nextSteps);
      assert.ok(
        printed.some((command) => / report /.test(command)),
        'the next steps include the report',
      );
      for (const command of printed) {
        const result = shell(command, env);
        assert.equal(result.status, 0, `${command} exited ${result.status}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
        // The demo's data, not an empty database of the user's own.
        if (/ status --demo$/.test(command)) assert.doesNotMatch(result.stdout, /No finished cycles yet/);
      }
      assert.ok(existsSync(join(home.path, '.local', 'share', 'ktrdr-agent', 'demo', 'report.html')));
    } finally {
      home.remove();
    }
  });

  test('Ctrl-C during the demo stops after the tick under way, says so, exits 130, and leaves no lease held', async () => {
    const home = tempDir('ktrdr-agent-demo-interrupt-');
    try {
      const child = spawn(process.execPath, ['--', binRun, 'demo', '--cycles', '50', '--max-ticks', '200'], {
        cwd: repoRoot,
        env: newcomerEnv(home.path),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let interrupted = false;
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (!interrupted && /^tick {2}2: /m.test(stdout)) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 130, stdout);
      assert.match(stdout, /Stopping after this tick/);
      assert.match(
        stdout,
        /Interrupted after \d+ tick\(s\): (released the invocation lease of cycle\(s\) #\d+|no invocation lease was held)\. The data stays in .*`.* status --demo` shows it/,
      );
      const status = await runCli(['status', '--demo', '--json'], { HOME: home.path });
      assert.equal(status.code, 0, status.stderr);
      const view = JSON.parse(status.stdout) as { active: { invocation: unknown }[] };
      assert.ok(
        view.active.every((cycle) => cycle.invocation === null),
        status.stdout,
      );
    } finally {
      home.remove();
    }
  });
});
