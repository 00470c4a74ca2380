import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { runCli } from '../support/cli.ts';
import { startEngineRig } from '../support/scripted-model.ts';

describe('cancel (built CLI)', () => {
  test('the session is ended in the database before its operation is cancelled in KTRDR', async (t) => {
    const rig = await startEngineRig({ designer: 'baseline', frozenClock: true });
    t.after(() => rig.close());
    await rig.tick();
    const [session] = await rig.sessions();
    assert.equal(session!.phase, 'training');
    const operationId = session!.training_operation_id as string;
    assert.ok(operationId);

    // A KTRDR in front of the simulator that looks at the session when the cancel reaches it: a tick landing at
    // that moment sees what this sees.
    const seenAtCancel: { outcome: string | null; phase: string }[] = [];
    const target = new URL(rig.sim.url);
    const proxy = createServer((req, res) => {
      void (async () => {
        if (req.method === 'DELETE' && req.url?.includes('/operations/')) {
          seenAtCancel.push((await rig.pool.query('SELECT outcome, phase FROM agent_sessions WHERE id = $1', [session!.id])).rows[0]);
        }
        const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
    const viaProxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${target.pathname}`;

    const result = await runCli(['cancel', String(session!.id), '--json'], { ...rig.env, KTRDR_API_URL: viaProxy });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { sessionId: session!.id, cancelled: true, operation: `${operationId} cancelled` });
    assert.deepEqual(seenAtCancel, [{ outcome: 'cancelled', phase: 'idle' }]);
    const operation = (await (await fetch(`${rig.sim.url}/operations/${operationId}`)).json()) as { data: { status: string } };
    assert.equal(operation.data.status, 'cancelled');

    // A tick after the cancel leaves the session ended and its operation cancelled.
    await rig.tick();
    const after = await rig.session(session!.id);
    assert.equal(after.outcome, 'cancelled');
    assert.equal((await rig.sessions()).filter((s) => s.outcome === null && s.training_operation_id === operationId).length, 0);
  });
});
