import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseStrategyYaml, StrategyStore, StrategyStoreError, type StrategyStoreErrorCode } from '../../src/core/strategy/index.ts';

const storeModuleUrl = new URL('../../src/core/strategy/store.ts', import.meta.url).href;
const temporaryRoots: string[] = [];

after(async () => {
  await Promise.all(temporaryRoots.map((root) => fs.rm(root, { recursive: true, force: true })));
});

async function makeRoot(): Promise<string> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'ktrdr-agent-store-')));
  temporaryRoots.push(root);
  return root;
}

async function makeStrategiesDirectory(): Promise<{ root: string; directory: string }> {
  const root = await makeRoot();
  const directory = path.join(root, 'strategies');
  await fs.mkdir(directory);
  return { root, directory };
}

function strategy(name: string, rsiPeriod = 14): Record<string, unknown> {
  return {
    name,
    version: '3.0',
    training_data: { symbols: { mode: 'single', symbol: 'EURUSD' }, timeframes: { mode: 'single', timeframe: '1h' } },
    indicators: { rsi: { type: 'rsi', period: rsiPeriod } },
    fuzzy_sets: { rsi_zone: { indicator: 'rsi', oversold: [0, 20, 35], overbought: [65, 80, 100] } },
    nn_inputs: [{ fuzzy_set: 'rsi_zone', timeframes: 'all' }],
  };
}

async function rejectsWith(promise: Promise<unknown>, code: StrategyStoreErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StrategyStoreError, `expected a StrategyStoreError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

async function listing(directory: string): Promise<string[]> {
  return (await fs.readdir(directory)).sort();
}

/** Runs a child node process with an ES module script; resolves with its output once it exits. */
function runChild(
  script: string,
  args: string[],
): {
  output: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  child: ReturnType<typeof spawn>;
} {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const output = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { output, child };
}

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer | string) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline !== -1) {
        child.stdout?.off('data', onData);
        resolve(buffered.slice(0, newline));
      }
    };
    child.stdout?.on('data', onData);
    child.on('close', () => reject(new Error(`child exited before printing a line (got ${JSON.stringify(buffered)})`)));
  });
}

describe('StrategyStore.save and read', () => {
  test('writes <name>.yaml and returns its path, YAML and SHA-256', async () => {
    const { directory } = await makeStrategiesDirectory();
    const store = new StrategyStore(directory);
    const saved = await store.save('rsi_baseline', strategy('rsi_baseline'));
    assert.equal(saved.path, path.join(directory, 'rsi_baseline.yaml'));
    assert.equal(saved.written, true);
    const onDisk = await fs.readFile(saved.path, 'utf8');
    assert.equal(onDisk, saved.yaml);
    assert.equal(saved.sha256, createHash('sha256').update(onDisk).digest('hex'));
    assert.deepEqual(await listing(directory), ['rsi_baseline.yaml'], 'no temporary file is left behind');

    const read = await store.read('rsi_baseline');
    assert.equal(read.sha256, saved.sha256);
    assert.deepEqual(read.parsed, { ok: true, value: strategy('rsi_baseline') });
    assert.equal(await store.exists('rsi_baseline'), true);
    assert.equal(await store.exists('other'), false);
  });

  test('saving the same content twice is a no-op success', async () => {
    const { directory } = await makeStrategiesDirectory();
    const store = new StrategyStore(directory);
    const first = await store.save('same', strategy('same'));
    const before = await fs.stat(first.path);
    const second = await store.save('same', strategy('same'));
    assert.equal(second.written, false);
    assert.equal(second.sha256, first.sha256);
    assert.equal((await fs.stat(first.path)).mtimeMs, before.mtimeMs);
    await rejectsWith(store.save('same', strategy('same'), { allowOverwriteSame: false }), 'exists', /same content/);
  });

  test('refuses different content under an existing name and suggests a new one', async () => {
    const { directory } = await makeStrategiesDirectory();
    const store = new StrategyStore(directory);
    const original = await store.save('momentum', strategy('momentum', 14));
    await rejectsWith(store.save('momentum', strategy('momentum', 21)), 'exists', /already exists.*'momentum_v2'/);
    assert.equal(await fs.readFile(original.path, 'utf8'), original.yaml, 'the original is untouched');

    await store.save('momentum_v2', strategy('momentum_v2', 21));
    await rejectsWith(store.save('momentum_v2', strategy('momentum_v2', 28)), 'exists', /'momentum_v3'/);
  });

  test('refuses a config whose name differs from the file name', async () => {
    const { directory } = await makeStrategiesDirectory();
    await rejectsWith(new StrategyStore(directory).save('file_name', strategy('yaml_name')), 'invalid_name', /strategy_name/);
    assert.deepEqual(await listing(directory), []);
  });

  test('reports a missing strategy, a missing directory and a non-file target', async () => {
    const { root, directory } = await makeStrategiesDirectory();
    const store = new StrategyStore(directory);
    await rejectsWith(store.read('absent'), 'io', /no strategy named 'absent'/);
    await rejectsWith(new StrategyStore(path.join(root, 'missing')).save('x', strategy('x')), 'io', /does not exist/);
    await fs.mkdir(path.join(directory, 'folder.yaml'));
    await rejectsWith(store.save('folder', strategy('folder')), 'io', /not a regular file/);
  });

  test('read returns parse errors of a hand-edited file', async () => {
    const { directory } = await makeStrategiesDirectory();
    await fs.writeFile(path.join(directory, 'broken.yaml'), 'name: broken\nhandler: !!js/function "x"\n');
    const read = await new StrategyStore(directory).read('broken');
    assert.equal(read.parsed.ok, false);
    if (!read.parsed.ok) assert.match(read.parsed.error, /line 2/);
  });
});

describe('StrategyStore name checks', () => {
  const badNames = ['../x', '/etc/passwd', 'a/b', 'a\\b', 'CON', 'nul', 'Com1', 'x'.repeat(300), '', '.hidden', 'a.b', 'two words', 'a\0b', '-dash'];
  for (const name of badNames) {
    test(`refuses ${JSON.stringify(name.length > 20 ? `${name.slice(0, 10)}... (${name.length} chars)` : name)}`, async () => {
      const { root, directory } = await makeStrategiesDirectory();
      const store = new StrategyStore(directory);
      await rejectsWith(store.save(name, strategy('placeholder')), 'invalid_name');
      await rejectsWith(store.read(name), 'invalid_name');
      await rejectsWith(store.exists(name), 'invalid_name');
      assert.deepEqual(await listing(directory), []);
      assert.deepEqual(await listing(root), ['strategies'], 'nothing is written next to the directory');
    });
  }

  test('accepts a 100-character name', async () => {
    const { directory } = await makeStrategiesDirectory();
    const name = 'n'.repeat(100);
    assert.equal((await new StrategyStore(directory).save(name, strategy(name))).written, true);
  });
});

describe('StrategyStore symlink handling', () => {
  test('refuses a target that is a symlink, and writes nothing outside', async () => {
    const { root, directory } = await makeStrategiesDirectory();
    const outside = path.join(root, 'outside');
    await fs.mkdir(outside);
    const secret = path.join(outside, 'secret.yaml');
    await fs.writeFile(secret, 'keep: me\n');
    await fs.symlink(secret, path.join(directory, 'victim.yaml'));
    await fs.symlink(path.join(outside, 'planted.yaml'), path.join(directory, 'dangling.yaml'));
    const store = new StrategyStore(directory);

    await rejectsWith(store.save('victim', strategy('victim')), 'outside_dir', /symbolic link/);
    await rejectsWith(store.save('dangling', strategy('dangling')), 'outside_dir', /symbolic link/);
    await rejectsWith(store.read('victim'), 'outside_dir');
    assert.equal(await fs.readFile(secret, 'utf8'), 'keep: me\n');
    assert.deepEqual(await listing(outside), ['secret.yaml']);
    assert.deepEqual(await listing(directory), ['dangling.yaml', 'victim.yaml'], 'no temporary file is left behind');
  });

  test('refuses a strategies directory that is itself a symlink', async () => {
    const root = await makeRoot();
    const outside = path.join(root, 'outside');
    await fs.mkdir(outside);
    const link = path.join(root, 'strategies');
    await fs.symlink(outside, link);
    await rejectsWith(new StrategyStore(link).save('escape', strategy('escape')), 'outside_dir', /symbolic link/);
    assert.deepEqual(await listing(outside), []);
  });

  test('refuses to follow the directory when a parent symlink is re-pointed elsewhere', async () => {
    const root = await makeRoot();
    for (const side of ['inside', 'outside']) await fs.mkdir(path.join(root, side, 'strategies'), { recursive: true });
    const parentLink = path.join(root, 'current');
    await fs.symlink(path.join(root, 'inside'), parentLink);
    const store = new StrategyStore(path.join(parentLink, 'strategies'));
    await store.save('first', strategy('first'));

    await fs.unlink(parentLink);
    await fs.symlink(path.join(root, 'outside'), parentLink);
    await rejectsWith(store.save('second', strategy('second')), 'outside_dir', /now resolves to/);
    assert.deepEqual(await listing(path.join(root, 'outside', 'strategies')), []);
    assert.deepEqual(await listing(path.join(root, 'inside', 'strategies')), ['first.yaml']);
  });
});

describe('StrategyStore under concurrency and crashes', () => {
  test('concurrent writers in one process: exactly one content wins', async () => {
    const { directory } = await makeStrategiesDirectory();
    const writers = Array.from({ length: 8 }, (_, index) => new StrategyStore(directory).save('contested', strategy('contested', 10 + index)));
    const results = await Promise.allSettled(writers);
    const winners = results.filter((result) => result.status === 'fulfilled');
    assert.equal(winners.length, 1, 'one writer wins');
    for (const result of results) {
      if (result.status === 'rejected') {
        assert.ok(result.reason instanceof StrategyStoreError);
        assert.equal(result.reason.code, 'exists');
      }
    }
    const winner = winners[0];
    assert.ok(winner?.status === 'fulfilled');
    assert.equal(await fs.readFile(path.join(directory, 'contested.yaml'), 'utf8'), winner.value.yaml);
    assert.deepEqual(await listing(directory), ['contested.yaml']);
  });

  test('concurrent writer processes: exactly one wins and readers only ever see whole YAML', async () => {
    const { directory } = await makeStrategiesDirectory();
    const script = `
      import { StrategyStore } from ${JSON.stringify(storeModuleUrl)};
      const [directory, period] = process.argv.slice(-2);
      const config = {
        name: 'raced',
        training_data: { symbols: { mode: 'single', symbol: 'EURUSD' }, timeframes: { mode: 'single', timeframe: '1h' } },
        indicators: { rsi: { type: 'rsi', period: Number(period) } },
        fuzzy_sets: { zone: { indicator: 'rsi', low: [0, 20, 35] } },
        nn_inputs: [{ fuzzy_set: 'zone', timeframes: 'all' }],
        padding: 'x'.repeat(50000),
      };
      process.stdout.write('ready\\n');
      process.stdin.once('data', async () => {
        try {
          const saved = await new StrategyStore(directory).save('raced', config);
          process.stdout.write(JSON.stringify({ outcome: 'saved', written: saved.written, period: Number(period) }) + '\\n');
        } catch (error) {
          process.stdout.write(JSON.stringify({ outcome: error.code ?? String(error) }) + '\\n');
        }
        process.exit(0);
      });
    `;
    const children = Array.from({ length: 4 }, (_, index) => runChild(script, [directory, String(20 + index)]));
    await Promise.all(children.map(({ child }) => firstLine(child)));

    const target = path.join(directory, 'raced.yaml');
    let reading = true;
    let wholeReads = 0;
    const reader = (async () => {
      while (reading) {
        const text = await fs.readFile(target, 'utf8').catch(() => undefined);
        if (text !== undefined) {
          const parsed = parseStrategyYaml(text);
          assert.ok(parsed.ok, `a reader saw a partial file: ${parsed.ok ? '' : parsed.error}`);
          wholeReads += 1;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    for (const { child } of children) child.stdin?.write('go\n');
    const outputs = await Promise.all(children.map(({ output }) => output));
    reading = false;
    await reader;

    const results = outputs.map((output) => {
      assert.equal(output.code, 0, output.stderr);
      return JSON.parse(output.stdout.trim().split('\n').pop() ?? '{}') as {
        outcome: string;
        written?: boolean;
        period?: number;
      };
    });
    const winners = results.filter((result) => result.outcome === 'saved');
    assert.equal(winners.length, 1, JSON.stringify(results));
    assert.ok(
      results.every((result) => result.outcome === 'saved' || result.outcome === 'exists'),
      JSON.stringify(results),
    );
    const finalParse = parseStrategyYaml(await fs.readFile(target));
    assert.ok(finalParse.ok);
    assert.equal((finalParse.value as { indicators: { rsi: { period: number } } }).indicators.rsi.period, winners[0]?.period);
    assert.ok(wholeReads >= 1, 'the reader saw the published file');
    assert.deepEqual(await listing(directory), ['raced.yaml']);
  });

  test('a writer killed after staging and before publishing leaves no partial <name>.yaml', async () => {
    const { directory } = await makeStrategiesDirectory();
    const script = `
      import { stageStrategyFile } from ${JSON.stringify(storeModuleUrl)};
      const directory = process.argv[process.argv.length - 1];
      const yaml = 'name: crashed\\n' + 'padding: ' + 'x'.repeat(100000) + '\\n';
      const staged = await stageStrategyFile(directory, 'crashed', yaml);
      process.stdout.write(staged.tempPath + '\\n');
      setInterval(() => undefined, 1000);
    `;
    const { child, output } = runChild(script, [directory]);
    const tempPath = await firstLine(child);
    child.kill('SIGKILL');
    const exit = await output;
    assert.equal(exit.signal, 'SIGKILL');

    const entries = await listing(directory);
    assert.ok(!entries.includes('crashed.yaml'), 'the strategy name never appeared');
    assert.deepEqual(entries, [path.basename(tempPath)], 'only the hidden temporary file remains');
    assert.match(path.basename(tempPath), /^\.crashed\..*\.tmp$/);

    const store = new StrategyStore(directory);
    assert.equal(await store.exists('crashed'), false);
    const saved = await store.save('crashed', strategy('crashed'));
    assert.equal(saved.written, true);
    assert.deepEqual((await store.read('crashed')).parsed, { ok: true, value: strategy('crashed') });
  });
});
