// `status --watch` as a person sees it: inside a real terminal (tmux), then resized, then quit with q. And the
// same command without a terminal, as cron or a pipe would run it: one frame, exit 0, nothing waits for a key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/core/db/connect.ts';
import { realisticOutcomes, seedDatabase, type SeededData } from '../support/seed.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const socket = `ktrdr-tui-${process.pid}`;
const session = 'watch';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C.UTF-8' } });
}

function screen(): string {
  return tmux('capture-pane', '-p', '-t', session);
}

async function waitFor(what: string, predicate: () => boolean, describe: () => string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}; last seen:\n${describe()}`);
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

describe('status --watch', () => {
  let dataDir: string;
  let exitFile: string;
  let seeded: SeededData;

  before(async () => {
    if (!existsSync(join(root, 'dist/commands/status.js'))) execFileSync(process.execPath, [join(root, 'scripts/build.ts')], { cwd: root, stdio: 'inherit' });
    dataDir = mkdtempSync(join(tmpdir(), 'ktrdr-tui-'));
    exitFile = join(dataDir, 'exit-code');
    const store = await openStore({ kind: 'pglite', dataDir: join(dataDir, 'pgdata') });
    try {
      seeded = await seedDatabase(store.db, { active: { training: 1 }, finished: realisticOutcomes(40), actionsPerSession: 3 });
    } finally {
      await store.close();
    }
  });

  after(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone: the session ended when the command exited
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  function env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dataDir,
      XDG_CONFIG_HOME: join(dataDir, '.config'),
      KTRDR_AGENT_DATA_DIR: dataDir,
      LANG: 'C.UTF-8',
      TERM: 'xterm-256color',
    };
  }

  test('in a terminal: draws the session, its progress bar and the budget gauge, survives resizes down to 40×12, and q quits', async () => {
    const assignments = Object.entries(env()).map(([key, value]) => `${key}=${shellQuote(value)}`);
    const command = `cd ${shellQuote(root)} && env -i ${assignments.join(' ')} ${shellQuote(process.execPath)} bin/run.js status --watch --interval 1; echo $? > ${shellQuote(exitFile)}`;
    tmux('-u', 'new-session', '-d', '-s', session, '-x', '120', '-y', '40', command);

    const trainingId = seeded.active.training[0]!;
    await waitFor('the first frame', () => screen().includes('Budget today'), screen);
    let seen = screen();
    assert.match(seen, /^ktrdr-agent status {2}\d\d:\d\d:\d\d UTC/m);
    assert.match(seen, new RegExp(`#${trainingId} TRAINING {2}\\w+`));
    assert.match(seen, /Training op_training_\d+ \(running, 67% complete\) · Epoch 34\/50/);
    const bar = /\[(█+)(░+)\] {2}67%/.exec(seen);
    assert.ok(bar, `a progress bar at 67%:\n${seen}`);
    const cells = bar[1]!.length + bar[2]!.length;
    assert.equal(bar[1]!.length, Math.round(0.67 * cells));
    assert.match(seen, /Recent cycles\n#\d+ +(SUCCESS|FAILED|CANCELLED)/);
    assert.match(seen, /\[█*░+\] \$\d+\.\d\d \/ \$5\.00 \(\d+\.\d%\)/, 'the budget gauge');
    assert.match(seen, /Last tick \d+ minutes? ago \(ok on seed-host\)/);
    assert.match(seen, /q quit · r refresh/);
    assert.ok(seen.split('\n').every((line) => line.length <= 120));

    // Narrower and shorter: the frame is redrawn for the new size, once, with nothing left over from the old one.
    tmux('resize-window', '-t', session, '-x', '72', '-y', '30');
    await waitFor(
      'a frame for 72 columns',
      () =>
        /\[█+░+\] {2}67%/.test(screen()) &&
        !screen()
          .split('\n')
          .some((l) => l.length > 72) &&
        screen().includes('q quit'),
      screen,
    );
    await waitFor(
      'the refreshed frame',
      () =>
        screen()
          .split('\n')
          .filter((l) => l.startsWith('ktrdr-agent status')).length === 1,
      screen,
    );
    seen = screen();
    assert.equal(seen.split('\n').filter((line) => line.includes('Recent cycles')).length, 1, seen);
    assert.equal(seen.split('\n').filter((line) => line.includes('Budget today')).length, 1, seen);
    assert.ok(seen.split('\n').every((line) => line.length <= 72));

    // Small (40×12): the screen is cleared and redrawn, and the current cycle stays on it (the frame fits the rows,
    // so nothing scrolls its top away); sections give way instead.
    tmux('resize-window', '-t', session, '-x', '40', '-y', '12');
    const small = () => screen().split('\n');
    await waitFor(
      'a frame for 40×12',
      () =>
        small().every((l) => l.length <= 40) &&
        small().some((l) => l.startsWith('ktrdr-agent status')) &&
        new RegExp(`^#${trainingId} +TRAINING`, 'm').test(screen()) &&
        screen().includes('q quit'),
      screen,
    );
    seen = screen();
    assert.equal(seen.split('\n').filter((line) => line.startsWith('ktrdr-agent status')).length, 1, seen);
    assert.equal(seen.split('\n').filter((line) => /TRAINING/.test(line)).length, 1, `no piece of an older frame:\n${seen}`);
    assert.doesNotMatch(seen, /Last tick/, `the last tick gave way:\n${seen}`);

    tmux('send-keys', '-t', session, 'q');
    await waitFor(
      'the process to exit',
      () => existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== '',
      () => screen(),
    );
    assert.equal(readFileSync(exitFile, 'utf8').trim(), '0');
  });

  test('without a terminal: prints one frame and exits 0', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/run.js', 'status', '--watch'], { cwd: root, env: env(), timeout: 60_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      });
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`#${seeded.active.training[0]} TRAINING`));
    assert.match(result.stdout, /\[█+░+\] {2}67%/);
    assert.match(result.stdout, /Budget today/);
    assert.doesNotMatch(result.stdout, /q quit/, 'no key hints: nothing is listening for keys');
    assert.doesNotMatch(result.stdout, /\u001b/, 'plain text: no escape sequences in a pipe');
  });
});
