import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closest, unknownCommandAdvice, unknownFlagAdvice } from '../../src/core/cli/suggest.ts';
import { editDistance } from '../../src/core/kernel/edit-distance.ts';

const commands = [
  'status',
  'history',
  'session',
  'budget',
  'budget:set',
  'config',
  'pause',
  'resume',
  'tick',
  'trigger',
  'db:migrate',
  'sim:serve',
  'strategy:validate',
  'doctor',
  'demo',
  'schedule',
  'cancel',
];

describe('suggestions for what was probably meant', () => {
  test('edit distance counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('stauts', 'status'), 1);
    assert.equal(editDistance('jsn', 'json'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(closest('stauts', commands), 'status');
    assert.equal(closest('xyzzy', commands), undefined);
  });

  test('an unknown command: the closest one, or the plain message', () => {
    assert.equal(unknownCommandAdvice('stauts', commands), "'stauts' is not a ktrdr-agent command. Did you mean `ktrdr-agent status`?");
    assert.equal(unknownCommandAdvice('xyzzy', commands), "'xyzzy' is not a ktrdr-agent command. See `ktrdr-agent --help`.");
    assert.match(unknownCommandAdvice('db:migrat', commands), /Did you mean `ktrdr-agent db migrate`\?/);
  });

  test('a known command with arguments it does not take says so', () => {
    assert.equal(unknownCommandAdvice('status:extra', commands), "`status` takes no arguments (got 'extra'). See `ktrdr-agent status --help`.");
    assert.equal(unknownCommandAdvice('budget:5', commands), '`budget` takes no arguments. Did you mean `ktrdr-agent budget set 5`?');
    assert.equal(unknownCommandAdvice('budget:sett', commands, ['5']), "'budget sett' is not a ktrdr-agent command. Did you mean `ktrdr-agent budget set 5`?");
  });

  test('an unknown flag: the closest flag of that command', () => {
    assert.equal(
      unknownFlagAdvice('Nonexistent flag: --jsn\nSee more help with --help', 'status', ['json', 'watch', 'help']),
      'Unknown flag --jsn. Did you mean --json? See `ktrdr-agent status --help`.',
    );
    assert.equal(unknownFlagAdvice('Nonexistent flag: --qqqq', 'status', ['json']), 'Unknown flag --qqqq. See `ktrdr-agent status --help`.');
    assert.equal(unknownFlagAdvice('something else', 'status', ['json']), 'something else');
  });
});

describe('money in --json', () => {
  test('every amount of dollars is kept to micro-dollars, at any depth; other numbers are left alone', async () => {
    const { roundMoney } = await import('../../src/core/cli/base-command.ts');
    assert.deepEqual(
      roundMoney({
        costUsd: 0.1 + 0.2,
        tokens: 0.1 + 0.2,
        budget: { remainingUsd: 4.869999999999999, days: [{ usedUsd: 1.00000049 }] },
        pricesUsd: [3.0000001],
        at: 'x',
      }),
      { costUsd: 0.3, tokens: 0.1 + 0.2, budget: { remainingUsd: 4.87, days: [{ usedUsd: 1 }] }, pricesUsd: [3], at: 'x' },
    );
  });
});
