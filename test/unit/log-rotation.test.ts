import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { appendedFileOf, rotateLog } from '../../src/core/cli/log-rotation.ts';
import { tempDir } from '../support/databases.ts';

describe('tick log rotation', () => {
  test('a log past its size becomes .1, older ones move up, and no more than `keep` are kept', (t) => {
    const dir = tempDir('ktrdr-agent-logs-');
    t.after(() => dir.remove());
    const log = join(dir.path, 'tick.log');
    const rotation = { maxBytes: 100, keep: 2 };
    for (const generation of ['a', 'b', 'c']) {
      writeFileSync(log, generation.repeat(150));
      assert.equal(rotateLog(log, rotation), true);
      assert.equal(readFileSync(log, 'utf8'), '', 'emptied in place, so a descriptor appending to it goes on at its start');
    }
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'c'.repeat(150));
    assert.equal(readFileSync(`${log}.2`, 'utf8'), 'b'.repeat(150));
    assert.equal(existsSync(`${log}.3`), false, 'the oldest went');
    writeFileSync(log, 'd'.repeat(99));
    assert.equal(rotateLog(log, rotation), false, 'under the size it stays');
    assert.equal(rotateLog(log, { maxBytes: 0, keep: 2 }), false, '0 never rotates');
    assert.equal(rotateLog(join(dir.path, 'absent.log'), rotation), false);
  });

  test('a descriptor that appends to the log goes on writing to tick.log after a rotation', (t) => {
    const dir = tempDir('ktrdr-agent-logs-');
    t.after(() => dir.remove());
    const log = join(dir.path, 'tick.log');
    writeFileSync(log, 'x'.repeat(150));
    const fd = openSync(log, 'a');
    t.after(() => closeSync(fd));
    assert.equal(rotateLog(log, { maxBytes: 100, keep: 3 }), true);
    writeSync(fd, 'after\n');
    assert.equal(readFileSync(log, 'utf8'), 'after\n');
    assert.equal(readFileSync(`${log}.1`, 'utf8'), 'x'.repeat(150));
  });

  test('only a file opened for appending is taken for the log (a shell `>>`), never a truncated file or a pipe', (t) => {
    const dir = tempDir('ktrdr-agent-logs-');
    t.after(() => dir.remove());
    const log = join(dir.path, 'tick.log');
    const appended = openSync(log, 'a');
    const truncated = openSync(join(dir.path, 'other.log'), 'w');
    t.after(() => {
      closeSync(appended);
      closeSync(truncated);
    });
    assert.equal(appendedFileOf(appended), log);
    assert.equal(appendedFileOf(truncated), null);
    // A child whose stderr is a pipe finds no log to rotate.
    const child = spawnSync(
      process.execPath,
      ['-e', `import('${new URL('../../src/core/cli/log-rotation.ts', import.meta.url).href}').then((m) => process.stdout.write(String(m.appendedFileOf(2))))`],
      { encoding: 'utf8' },
    );
    assert.equal(child.stdout, 'null', child.stderr);
  });
});
