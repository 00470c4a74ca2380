import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openStore } from '../../src/core/db/connect.ts';
import { repoRoot, runCli } from '../support/cli.ts';
import { tempDir } from '../support/databases.ts';

/** A process that opens the embedded database, says "open", and on "go" records a tick and closes it. */
function startHolder(dataDir: string): {
  child: ChildProcess;
  opened: Promise<void>;
  finished: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const script = `
    import { openStore } from './src/core/db/connect.ts';
    import { finishTick, startTick } from './src/core/db/repositories/ticks.ts';
    const store = await openStore({ kind: 'pglite', dataDir: process.argv[1] });
    process.stdout.write('open\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    await startTick(store.db, { id: 'tick_holder', startedAt: new Date(), host: 'holder' });
    await finishTick(store.db, { id: 'tick_holder', finishedAt: new Date(), status: 'ok', summary: null });
    await store.close();
    process.stdout.write('done\\n');
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, dataDir], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const opened = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('open')) resolve();
    });
    child.once('exit', () => reject(new Error(`holder exited before opening: ${stderr}`)));
  });
  const finished = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, opened, finished };
}

async function tickIds(dataDir: string): Promise<string[]> {
  const store = await openStore({ kind: 'pglite', dataDir });
  try {
    return (await store.db.selectFrom('agent_ticks').select('id').orderBy('id').execute()).map((row) => row.id);
  } finally {
    await store.close();
  }
}

describe('the embedded database has one writer, and a live holder never loses it', () => {
  const baseEnv = (dir: string) => ({ HOME: dir, KTRDR_AGENT_DATA_DIR: dir, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1', AGENT_DESIGNER: 'baseline' });

  // The old lock went stale 10 s after its holder last touched it. Liveness is now the owner's pid, which a stopped
  // process keeps: a lock last touched an hour ago is still the stopped holder's. The age is set on the lock file
  // rather than waited for, so the test takes seconds, not a minute.
  test('a holder stopped with SIGSTOP keeps the lock however old it is: the others wait, give up cleanly, and the resumed holder loses nothing', async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, 'pgdata');
    const holder = startHolder(dataDir);
    try {
      await holder.opened;
      holder.child.kill('SIGSTOP');
      const status = await runCli(['status', '--json'], { ...baseEnv(dir.path), AGENT_LOCK_WAIT_SECONDS: '13' });
      assert.equal(status.code, 1, status.stdout + status.stderr);
      assert.match(status.stdout + status.stderr, new RegExp(`in use by another ktrdr-agent process \\(pid ${holder.child.pid}\\)`));
      const tick = await runCli(['tick'], baseEnv(dir.path));
      assert.equal(tick.code, 0, tick.stderr);
      assert.match(tick.stderr, /tick_skipped/);
      const anHourAgo = new Date(Date.now() - 3_600_000);
      utimesSync(`${dataDir}.lock`, anHourAgo, anHourAgo);
      const later = await runCli(['status', '--json'], { ...baseEnv(dir.path), AGENT_LOCK_WAIT_SECONDS: '1' });
      assert.equal(later.code, 1, "still the stopped holder's lock, an hour old");
      holder.child.kill('SIGCONT');
      holder.child.stdin!.write('go\n');
      const finished = await holder.finished;
      assert.equal(finished.code, 0, finished.stderr);
      assert.match(finished.stdout, /done/);
      assert.deepEqual(await tickIds(dataDir), ['tick_holder']);
      assert.equal(existsSync(`${dataDir}.lock`), false);
    } finally {
      holder.child.kill('SIGKILL');
      dir.remove();
    }
  });

  test('a lock left by a killed process is taken at once (its pid is dead), without waiting for any age', async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, 'pgdata');
    const holder = startHolder(dataDir);
    try {
      await holder.opened;
      holder.child.kill('SIGKILL');
      await holder.finished;
      assert.equal(existsSync(`${dataDir}.lock`), true);
      const status = await runCli(['status', '--json'], { ...baseEnv(dir.path), AGENT_LOCK_WAIT_SECONDS: '1' });
      assert.equal(status.code, 0, status.stderr);
    } finally {
      dir.remove();
    }
  });

  test('a first open is atomic: the data dir appears whole, and concurrent first opens end with one database and no errors', async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, 'pgdata');
    let sawPartial = false;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        if (existsSync(dataDir) && !existsSync(join(dataDir, 'PG_VERSION'))) sawPartial = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      const env = { ...baseEnv(dir.path), AGENT_LOCK_WAIT_SECONDS: '120' };
      const results = await Promise.all([runCli(['status', '--json'], env), runCli(['tick'], env), runCli(['db', 'migrate', '--status', '--json'], env)]);
      polling = false;
      await poll;
      for (const [index, result] of results.entries()) {
        // The tick (index 1) runs its pass with KTRDR unreachable on purpose: degraded, exit 5; the others succeed.
        assert.equal(result.code, index === 1 ? 5 : 0, result.stderr);
        assert.doesNotMatch(result.stderr, /duplicate key|does not exist|"level":"error"/);
      }
      assert.equal(sawPartial, false, 'the data dir existed without PG_VERSION');
      const status = JSON.parse((await runCli(['db', 'migrate', '--status', '--json'], env)).stdout) as { pending: string[] };
      assert.deepEqual(status.pending, []);
    } finally {
      polling = false;
      dir.remove();
    }
  });

  test('a first open killed half way leaves no data dir behind, and the next command creates a whole one', async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, 'pgdata');
    try {
      const env = baseEnv(dir.path);
      const child = spawn(process.execPath, ['--', join(repoRoot, 'bin/run.js'), 'status', '--json'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      const exited = new Promise((resolve) => child.once('close', resolve));
      // Kill it as soon as it has started creating the database.
      for (let waited = 0; waited < 10_000 && !existsSync(`${dataDir}.lock`) && !existsSync(dataDir); waited += 5) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGKILL');
      await exited;
      // Either the kill came after the rename (a whole database) or before it (no data dir): never a data dir without
      // PG_VERSION. Each branch is checked for what it must leave; both are also made on purpose in the tests below.
      const leftovers = () => readdirSync(dir.path).filter((entry) => entry.startsWith('pgdata.creating-'));
      if (existsSync(dataDir)) {
        assert.ok(existsSync(join(dataDir, 'PG_VERSION')), 'a data dir exists, so it must be whole');
        assert.deepEqual(leftovers(), [], 'the rename consumed the temporary directory');
      } else {
        // Killed before the rename: the lock it took is still there, and anything else is its own temporary directory.
        assert.ok(existsSync(`${dataDir}.lock`), 'the killed open had taken the lock');
        const others = readdirSync(dir.path).filter((entry) => entry !== 'pgdata.lock' && !entry.startsWith(`pgdata.creating-${child.pid}-`));
        assert.deepEqual(others, [], 'nothing but the lock and its own temporary directory');
      }
      const status = await runCli(['status', '--json'], env);
      assert.equal(status.code, 0, status.stderr);
      assert.ok(existsSync(join(dataDir, 'PG_VERSION')));
      assert.deepEqual(leftovers(), [], 'the next first open removed any interrupted temporary directory');
      assert.deepEqual(await tickIds(dataDir), []);
    } finally {
      dir.remove();
    }
  });

  test('an open killed before its rename: the next command removes the temporary directory and the data dir without PG_VERSION, and creates a whole one', async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, 'pgdata');
    try {
      // What an interrupted first open leaves (a half-copied temporary directory) and what an older version's left (a
      // data dir without PG_VERSION).
      mkdirSync(join(dir.path, 'pgdata.creating-999999-0badf00d', 'base'), { recursive: true });
      writeFileSync(join(dir.path, 'pgdata.creating-999999-0badf00d', 'postgresql.conf'), '');
      mkdirSync(join(dataDir, 'base'), { recursive: true });
      const env = baseEnv(dir.path);
      const status = await runCli(['status', '--json'], env);
      assert.equal(status.code, 0, status.stderr);
      assert.ok(existsSync(join(dataDir, 'PG_VERSION')));
      assert.deepEqual(
        readdirSync(dir.path).filter((entry) => entry.startsWith('pgdata.creating-')),
        [],
      );
      const migrations = JSON.parse((await runCli(['db', 'migrate', '--status', '--json'], env)).stdout) as { pending: string[] };
      assert.deepEqual(migrations.pending, []);
      assert.deepEqual(await tickIds(dataDir), []);
    } finally {
      dir.remove();
    }
  });

  test('an open killed after its rename: the whole but unmigrated database is migrated by the next command', async () => {
    const dir = tempDir();
    const dataDir = join(dir.path, 'pgdata');
    try {
      // What the built CLI renames into place is a copy of the build's empty database: a kill right after the rename
      // leaves exactly that, nothing applied.
      cpSync(join(repoRoot, 'dist', 'pgdata-template'), dataDir, { recursive: true });
      assert.ok(existsSync(join(dataDir, 'PG_VERSION')));
      const env = baseEnv(dir.path);
      const before = JSON.parse((await runCli(['db', 'migrate', '--status', '--json'], env)).stdout) as { applied: string[] };
      assert.deepEqual(before.applied, [], 'nothing applied yet');
      const status = await runCli(['status', '--json'], env);
      assert.equal(status.code, 0, status.stderr);
      const after = JSON.parse((await runCli(['db', 'migrate', '--status', '--json'], env)).stdout) as { pending: string[] };
      assert.deepEqual(after.pending, []);
      assert.deepEqual(await tickIds(dataDir), []);
    } finally {
      dir.remove();
    }
  });
});
