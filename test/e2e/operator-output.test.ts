// What an operator sees: model- and API-written text never drives the terminal (ESC, BEL, CR), --json keeps it as
// it was, and every bad flag value is named with the form it takes, exit 1, without SQL text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { endSession } from '../../src/core/session/end.ts';
import { openStore, type Store } from '../../src/core/db/connect.ts';
import { holdFault } from '../../src/core/db/repositories/control.ts';
import { recordAction } from '../../src/core/db/repositories/actions.ts';
import { addHypothesis } from '../../src/core/db/repositories/hypotheses.ts';
import { createSession, updateSession } from '../../src/core/db/repositories/sessions.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, tempDir } from '../support/databases.ts';
import { validStrategy } from '../support/scripted-model.ts';

/** Clears the screen, sets the window title, rings the bell, returns the carriage to forge a line. */
const HOSTILE = 'before\u001b[2J\u001b]0;owned\u0007\rStatus: FORGED\u009b31m\nafter';
/** Anything a terminal would obey; without a TTY (NO_COLOR) the CLI prints no escape sequence of its own either. */
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('operator output (built CLI, PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let store: Store;
  const home = tempDir('ktrdr-agent-output-');
  let env: Record<string, string>;
  let sessionId = 0;
  let hypothesisId = 0;

  before(async () => {
    database = await createTestDatabase('ktrdr_agent_output');
    store = await openStore({ kind: 'postgres', url: database.url });
    env = { HOME: home.path, DATABASE_URL: database.url, KTRDR_API_URL: 'http://127.0.0.1:9/api/v1' };
    const now = new Date();
    const hypothesis = await store.db.transaction().execute((trx) =>
      addHypothesis(trx, {
        text: `Breakouts persist ${HOSTILE}`,
        rationale: HOSTILE,
        source: 'model',
        proposedByExperimentId: null,
        via: 'save_assessment',
        now,
      }),
    );
    hypothesisId = hypothesis.id;
    const session = await createSession(store.db, { designer: 'claude', now, leaseOwner: 't', leaseExpiresAt: now });
    sessionId = session.id;
    await updateSession(store.db, session.id, { strategyName: 'hostile_s', strategyConfig: validStrategy('hostile_s') }, now);
    await recordAction(store.db, {
      sessionId,
      phase: 'designing',
      toolName: 'validate_strategy',
      args: { note: HOSTILE },
      result: null,
      success: false,
      errorMessage: HOSTILE,
      errorKind: 'rejected',
      durationMs: 1,
      turn: 1,
      tokensInput: 1,
      tokensOutput: 1,
      at: now,
    });
    await endSession(store.db, session.id, { outcome: 'failed_design', reason: `the design invocation ended. Last words: ${HOSTILE}` }, now);
    await holdFault(store.db, { faultClass: 'anthropic_unreachable', cause: `the API said ${HOSTILE}`, keyFingerprint: null }, now);
  });
  after(async () => {
    await store.close();
    await database.drop();
    home.remove();
  });

  test('hypotheses, history, session, status and experiments print no control character from the data', async () => {
    const views = [
      ['hypotheses'],
      ['hypotheses', 'show', String(hypothesisId)],
      ['history'],
      ['session', String(sessionId)],
      ['status'],
      ['experiments'],
      ['experiments', 'show', '1'],
    ];
    for (const args of views) {
      const result = await runCli(args, env);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.doesNotMatch(result.stdout, TERMINAL_CONTROL, `${args.join(' ')} printed a control character:\n${JSON.stringify(result.stdout)}`);
      assert.doesNotMatch(result.stderr, TERMINAL_CONTROL, args.join(' '));
      assert.ok(!result.stdout.split('\n').some((line) => line.startsWith('Status: FORGED')), `${args.join(' ')}: a forged line`);
    }
    const status = await runCli(['status'], env);
    assert.match(status.stdout, /the API said before\[2J\]0;owned Status: FORGED31m after/, 'the fault banner shows the cause, defused');
  });

  test('--json keeps the text as it was written', async () => {
    const result = await runCli(['hypotheses', 'show', String(hypothesisId), '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { hypothesis: { text: string } }).hypothesis.text, `Breakouts persist ${HOSTILE}`);
  });

  test('each bad flag value is named with its accepted form, exit 1, no SQL text', async () => {
    const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    const cases: { args: string[]; says: RegExp }[] = [
      { args: ['history', '--since', '99999999999d'], says: /Invalid --since '99999999999d'.*1970-01-01 to 9999-12-31.*span back from now/ },
      { args: ['history', '--cursor', cursor('a:9999999999')], says: /Invalid --cursor '.+': pass the nextCursor value/ },
      { args: ['history', '--cursor', cursor('f:999999999999999999:5')], says: /Invalid --cursor '.+': pass the nextCursor value/ },
      { args: ['report', '--since', '0000-01-01', '--out', `${home.path}/r.html`], says: /Invalid --since '0000-01-01'.*1970-01-01/ },
      { args: ['cancel', '3000000000'], says: /3000000000.*2147483647|2147483647.*3000000000/ },
      {
        args: ['hypotheses', 'set', String(hypothesisId), 'refuted', '--evidence', 'e'.repeat(100_000)],
        says: /--evidence is 100000 characters; it may have at most 4000/,
      },
    ];
    for (const { args, says } of cases) {
      const result = await runCli(args, env);
      const shown = `${args.slice(0, 3).join(' ').slice(0, 80)}`;
      assert.equal(result.code, 1, `${shown}: exit ${result.code}\n${result.stderr}`);
      assert.match(result.stderr, says, shown);
      assert.doesNotMatch(result.stderr, /out of range for type|invalid input syntax|date\/time field|SELECT|syntax error/i, shown);
    }
    const events = await store.db.selectFrom('agent_hypothesis_events').select('status').where('hypothesis_id', '=', hypothesisId).execute();
    assert.deepEqual(
      events.map((e) => e.status),
      ['untested'],
      'the refused evidence changed nothing',
    );
  });
});
