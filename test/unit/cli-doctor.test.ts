import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anthropicAdvice, ktrdrAdvice, type DoctorReport } from '../../src/core/cli/services/doctor.ts';
import { renderDoctorText } from '../../src/core/cli/views/doctor-text.ts';
import { renderCancelText } from '../../src/core/cli/views/cancel-text.ts';
import { KtrdrError, type KtrdrErrorKind } from '../../src/core/ktrdr/errors.ts';

const KTRDR_URL = 'http://ktrdr.test:8000/api/v1';
const ktrdrError = (kind: KtrdrErrorKind, status: number | null) => new KtrdrError({ kind, status, code: 'x', message: 'failed', retryable: false });

describe('doctor advice', () => {
  test('KTRDR: each way of failing gets its own fix', () => {
    assert.match(ktrdrAdvice(new Error('boom'), KTRDR_URL), /^start KTRDR or set KTRDR_API_URL/);
    assert.match(ktrdrAdvice(ktrdrError('transport', null), KTRDR_URL), /^network: nothing answers at http:\/\/ktrdr\.test:8000\/api\/v1;/);
    assert.match(ktrdrAdvice(ktrdrError('timeout', null), KTRDR_URL), /did not answer within 2 s;/);
    assert.match(ktrdrAdvice(ktrdrError('http', 401), KTRDR_URL), /^credentials: /);
    assert.match(ktrdrAdvice(ktrdrError('http', 403), KTRDR_URL), /^credentials: /);
    assert.match(ktrdrAdvice(ktrdrError('http', 404), KTRDR_URL), /^address: KTRDR answered 404/);
    assert.match(ktrdrAdvice(ktrdrError('http', 503), KTRDR_URL), /^KTRDR is up but failing \(5xx\)/);
    assert.match(ktrdrAdvice(ktrdrError('invalid_response', 200), KTRDR_URL), /^KTRDR answered something the agent does not understand/);
  });

  test('Anthropic: the key, the model, the limits, the service or the network', () => {
    assert.match(anthropicAdvice({ status: 401 }), /^key: Anthropic refused/);
    assert.match(anthropicAdvice({ status: 403 }), /^key: this key may not use the API/);
    assert.match(anthropicAdvice({ status: 404 }), /^model: AGENT_MODEL/);
    assert.match(anthropicAdvice({ status: 429 }), /^rate limit: /);
    assert.match(anthropicAdvice({ status: 529 }), /^Anthropic is failing \(5xx\)/);
    assert.match(anthropicAdvice(new Error('ECONNREFUSED')), /^network: /);
    assert.match(anthropicAdvice(null), /^network: /);
  });
});

describe('doctor text', () => {
  test('a tick, a cross with its fix, a dash for what is optional, and the verdict', () => {
    const report: DoctorReport = {
      ok: false,
      exitCode: 1,
      checks: [
        { name: 'configuration', ok: true, detail: 'valid' },
        { name: 'KTRDR', ok: false, detail: `${KTRDR_URL}: refused`, fix: 'start KTRDR' },
        { name: 'Pushgateway', ok: true, detail: 'not configured (optional)', optional: true },
      ],
    };
    assert.equal(
      renderDoctorText(report, { color: false }),
      [
        '✓ configuration: valid',
        `✗ KTRDR: ${KTRDR_URL}: refused`,
        '    fix: start KTRDR',
        '– Pushgateway: not configured (optional)',
        '',
        'Something needs fixing (see above).',
      ].join('\n'),
    );
    assert.equal(
      renderDoctorText({ ok: true, exitCode: 0, checks: [{ name: 'configuration', ok: true, detail: 'valid' }] }, { color: false }),
      '✓ configuration: valid\n\nEverything looks right.',
    );
  });
});

describe('cancel text', () => {
  test('says what happened to the operation, or that the session had already ended', () => {
    assert.equal(renderCancelText({ sessionId: 7, cancelled: true, operation: 'op_1 cancelled' }), 'Session #7 cancelled (operation: op_1 cancelled).');
    assert.equal(
      renderCancelText({ sessionId: 7, cancelled: false, outcome: 'failed_training', operation: 'none' }),
      'Session #7 had just ended (failed_training) before the cancel; nothing to cancel.',
    );
  });
});
