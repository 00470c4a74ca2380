import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, fitColumns, fitLine, outputWidth, wrapPlain } from '../../src/core/cli/terminal-width.ts';

describe('the width rule', () => {
  test("a terminal's columns; without one COLUMNS; otherwise no limit", () => {
    assert.equal(outputWidth({ isTTY: true, columns: 132 }, { COLUMNS: '60' }), 132);
    assert.equal(outputWidth({ isTTY: false }, { COLUMNS: '60' }), 60);
    assert.equal(outputWidth({ isTTY: false }, {}), null);
    assert.equal(outputWidth({ isTTY: false }, { COLUMNS: 'wide' }), null);
    assert.equal(outputWidth({ isTTY: false }, { COLUMNS: '5' }), 20, 'never narrower than 20');
  });

  test('counts cells: colour codes take none, wide characters and emoji two', () => {
    assert.equal(displayWidth('\u001b[31mFAILED\u001b[39m'), 6);
    assert.equal(displayWidth('⚠️  paused'), 10);
    assert.equal(displayWidth('日本'), 4);
    assert.equal(displayWidth('e\u0301'), 1);
  });

  test('cuts a line with an ellipsis and keeps its colour codes so the colour still closes', () => {
    assert.equal(fitLine('momentum_breakout', 10), 'momentum_…');
    assert.equal(fitLine('short', 10), 'short');
    const cut = fitLine('\u001b[32mSUCCESS and more\u001b[39m', 8);
    assert.equal(cut, '\u001b[32mSUCCESS…\u001b[39m');
    assert.equal(fitLine('x'.repeat(50), null), 'x'.repeat(50));
  });

  test('wraps at spaces with a hanging indent', () => {
    assert.deepEqual(wrapPlain('one two three four', 9, 2), ['one two', '  three', '  four']);
  });
});

describe('fitColumns', () => {
  test('no limit, or room enough: every column at its natural width', () => {
    assert.deepEqual(fitColumns([3, 10, 5], [2, 8, 5], null), { keep: [0, 1, 2], widths: [5, 12, 7] });
    assert.deepEqual(fitColumns([3, 10, 5], [2, 8, 5], 40), { keep: [0, 1, 2], widths: [5, 12, 7] });
  });

  test('cuts the widest columns first, never below the header', () => {
    // Borders 4 + padding 6 leave 20 for the cells: 3, then the two wide ones cut to 9 and 8.
    const { keep, widths } = fitColumns([3, 40, 30], [2, 8, 7], 30);
    assert.deepEqual(keep, [0, 1, 2]);
    assert.deepEqual(widths, [5, 11, 10]);
    assert.equal(widths.reduce((a, b) => a + b, 0) + keep.length + 1, 30);
  });

  test('drops the least important columns when even cut ones do not fit', () => {
    // Each column's least (its header, or six) plus borders: 46 cells for all five; without column 3, 37.
    const { keep, widths } = fitColumns([3, 40, 30, 20, 20], [2, 8, 7, 6, 6], 40, [0, 2, 1, 4, 3]);
    assert.deepEqual(keep, [0, 1, 2, 4]);
    assert.ok(widths.reduce((a, b) => a + b, 0) + keep.length + 1 <= 40);
  });
});
