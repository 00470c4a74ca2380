import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSimulator, type Simulator } from '../../src/core/sim/index.ts';
import { binRun, repoRoot, runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';

/**
 * Modules only the interactive views, tracing or the claude designer need: a pass with nothing to decide loads none.
 * Node's own undici (global fetch, and what an ES import of node:http pulls in) costs ~25 ms: the KTRDR client needs neither.
 */
const HEAVY = ['/ink/', '/react/', '@opentelemetry', '@anthropic-ai/sdk', 'internal/deps/undici'];

const HOOK = `import { appendFileSync } from 'node:fs';
import module from 'node:module';
const log = process.env.RESOLVED_MODULES_LOG;
module.registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    if (log) appendFileSync(log, result.url + '\\n');
    return result;
  },
});
// Node's internal modules never pass through the hooks: the process lists the ones it loaded.
process.on('exit', () => {
  if (log) for (const loaded of process.moduleLoadList) if (loaded.startsWith('NativeModule ')) appendFileSync(log, 'node:' + loaded.slice(13) + '\\n');
});
`;

describe('start-up loads only what the command needs', () => {
  const work = tempDir('ktrdr-agent-modules-');
  const hookFile = join(work.path, 'record-resolve.mjs');
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: Simulator;
  let env: Record<string, string>;
  let runs = 0;

  /** Runs the built CLI with the resolve hook and returns every module URL it resolved. */
  function resolvedModules(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; urls: string[] }> {
    const logFile = join(work.path, `resolved-${runs++}.log`);
    writeFileSync(logFile, '');
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', hookFile, binRun, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env, ...extraEnv, RESOLVED_MODULES_LOG: logFile },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr, urls: readFileSync(logFile, 'utf8').split('\n').filter(Boolean) }));
    });
  }

  function assertNoHeavyModules(urls: string[]): void {
    const heavy = urls.filter((url) => HEAVY.some((marker) => url.includes(marker)));
    assert.deepEqual(heavy, []);
  }

  before(async () => {
    writeFileSync(hookFile, HOOK);
    database = await createTestDatabase();
    const strategiesDir = join(work.path, 'strategies');
    mkdirSync(strategiesDir);
    // timeScale 1: a training takes real minutes, so it is still running at the measured tick.
    simulator = await createSimulator({ strategiesDir, seed: 7, timeScale: 1 });
    env = {
      HOME: work.path,
      DATABASE_URL: database.url,
      KTRDR_API_URL: simulator.url,
      KTRDR_STRATEGIES_DIR: strategiesDir,
      AGENT_DESIGNER: 'baseline',
    };
  });
  after(async () => {
    await simulator.close();
    await database.drop();
    work.remove();
  });

  test('--version', async () => {
    const result = await resolvedModules(['--version']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      result.urls.some((url) => url.endsWith('/bin/run.js')),
      'the hook recorded the modules',
    );
    assertNoHeavyModules(result.urls);
  });

  test('a tick that only polls a training still running', async () => {
    const first = await runCli(['tick'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal([...simulator.state.operations.values()].filter((op) => op.type === 'training').length, 1, first.stderr);
    const result = await resolvedModules(['tick']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /"tick_finished".*"invoked":0/);
    assert.ok(
      result.urls.some((url) => url.includes('/dist/')),
      'the hook recorded the tick bundle',
    );
    assertNoHeavyModules(result.urls);
  });

  test('a tick of a paused agent, with the claude designer configured', async () => {
    assert.equal((await runCli(['pause'], env)).code, 0);
    const result = await resolvedModules(['tick'], { AGENT_DESIGNER: 'claude', ANTHROPIC_API_KEY: 'sk-ant-api03-modules-test' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /"status":"paused"/);
    assertNoHeavyModules(result.urls);
    assert.equal((await runCli(['resume'], env)).code, 0);
  });
});
