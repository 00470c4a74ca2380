import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KtrdrError, ktrdrFaultForDecision, ktrdrFaultIn, ktrdrFaultOf, responseTooLargeError, type KtrdrErrorKind } from '../../src/core/ktrdr/errors.ts';

const failure = (kind: KtrdrErrorKind, status: number | null, code = 'HTTP_ERROR') =>
  new KtrdrError({ kind, status, code, message: `${kind} ${status ?? ''} ${code}`, retryable: false });

describe('one home for what a KTRDR failure means', () => {
  test('the fault class: refused credentials, busy (429 or no free worker), or unreachable', () => {
    assert.equal(ktrdrFaultOf(failure('http', 401)).faultClass, 'ktrdr_auth');
    assert.equal(ktrdrFaultOf(failure('http', 403)).faultClass, 'ktrdr_auth');
    assert.equal(ktrdrFaultOf(failure('http', 429)).faultClass, 'ktrdr_busy');
    assert.equal(ktrdrFaultOf(failure('http', 503, 'WORKER_UNAVAILABLE')).faultClass, 'ktrdr_busy');
    assert.match(ktrdrFaultOf(failure('http', 503, 'WORKER_UNAVAILABLE')).cause, /^KTRDR busy: /);
    assert.equal(ktrdrFaultOf(failure('http', 502)).faultClass, 'ktrdr_unreachable');
    assert.equal(ktrdrFaultOf(failure('transport', null)).faultClass, 'ktrdr_unreachable');
  });

  test('unreachable: no answer, a timeout or a 5xx; never a call its caller abandoned, never a 4xx', () => {
    assert.equal(failure('transport', null).isUnreachable, true);
    assert.equal(failure('timeout', null).isUnreachable, true);
    assert.equal(failure('http', 500).isUnreachable, true);
    assert.equal(failure('transport', null, 'ABORTED').isUnreachable, false);
    assert.equal(failure('http', 404).isUnreachable, false);
    assert.equal(failure('invalid_response', 200).isUnreachable, false);
  });
});

describe('an answer the system needs to decide on', () => {
  test('out of contract (too large) is a fault of the world there, while a tool still reports it to the model', () => {
    const tooLarge = responseTooLargeError(200, 8 * 1024 * 1024, { method: 'POST', route: '/data/range' });
    assert.equal(ktrdrFaultIn(tooLarge), null, 'a tool result: the model is told KTRDR answered out of contract');
    const fault = ktrdrFaultForDecision(tooLarge);
    assert.equal(fault?.faultClass, 'ktrdr_unreachable');
    assert.match(fault?.cause ?? '', /^KTRDR answered out of contract: .*larger than 8388608 bytes/);
  });

  test('outages keep their own class, and a 4xx about the request itself is no fault', () => {
    assert.equal(ktrdrFaultForDecision(failure('http', 429))?.faultClass, 'ktrdr_busy');
    assert.equal(ktrdrFaultForDecision(failure('transport', null))?.faultClass, 'ktrdr_unreachable');
    assert.equal(ktrdrFaultForDecision(failure('http', 422, 'VALIDATION_ERROR')), null);
    assert.equal(ktrdrFaultForDecision(new Error('not KTRDR')), null);
  });
});
