import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { AgentConfig } from '../config/load.ts';
import { modelWarnings } from '../config/model-checks.ts';
import { openStore, storeTarget, DatabaseBusyError, type Store } from '../db/connect.ts';
import { finishTick, startTick } from '../db/repositories/ticks.ts';
import { TickLockGuard, tryAcquireTickLock } from '../db/tick-lock.ts';
import type { KtrdrClient } from '../ktrdr/client.ts';
import { createKtrdrClient } from '../ktrdr/create-client.ts';
import type { Tracing } from '../telemetry/tracing.ts';
import { noopTracer, type Tracer } from '../kernel/tracer.ts';
import type { Designer } from '../agent/designer.ts';
import type { ToolContext } from '../agent/tools.ts';
import type { StrategyStore } from '../strategy/store.ts';
import type { DecisionRecord } from './decision-record.ts';
import { TriggerPass, type PassSummary } from './pass.ts';
import { tickHealth } from './tick-health.ts';
import { locate } from './tick-location.ts';

export { locationOf, type TickLocation } from './tick-location.ts';

export interface TickLogger {
  (level: 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>): void;
}

export function newTickId(now: Date): string {
  return `tick_${now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}_${randomBytes(4).toString('hex')}`;
}

/** Builds the designer only when an invocation is due: the Anthropic SDK loads on that path alone. */
function designerFactory(config: AgentConfig, store: Store, ktrdr: KtrdrClient, now: () => Date, tracer: Tracer): () => Promise<Designer> {
  const toolContext =
    (strategies: StrategyStore) =>
    (sessionId: number): ToolContext => ({
      db: store.db,
      sessionId,
      ktrdr,
      strategies,
      config,
      now,
      turn: { index: 0, tokensInput: null, tokensOutput: null },
      ktrdrUnreachable: false,
    });
  return async () => {
    // The default strategies dir is ours to create; one that was configured is KTRDR's and must already exist.
    if (!config.settings.KTRDR_STRATEGIES_DIR) mkdirSync(config.strategiesDir, { recursive: true });
    const { StrategyStore } = await import('../strategy/store.ts');
    const contextFor = toolContext(new StrategyStore(config.strategiesDir));
    if (config.settings.AGENT_DESIGNER === 'evolve') {
      const { EvolveDesigner } = await import('../agent/evolve-designer.ts');
      return new EvolveDesigner(contextFor);
    }
    if (config.settings.AGENT_DESIGNER === 'baseline') {
      const { BaselineDesigner } = await import('../agent/baseline-designer.ts');
      return new BaselineDesigner(contextFor);
    }
    const { ClaudeDesigner } = await import('../agent/claude-designer.ts');
    return new ClaudeDesigner({ db: store.db, config, ktrdr, now, tracer, toolContext: contextFor });
  };
}

/** Pushes the database's totals to the Pushgateway when one is configured; a failure is logged, never thrown. */
async function pushMetrics(store: Store, config: AgentConfig, at: Date, log: TickLogger): Promise<void> {
  if (!config.settings.PUSHGATEWAY_URL) return;
  const { pushTickMetrics } = await import('../telemetry/tick-metrics.ts');
  const pushed = await pushTickMetrics(store.db, config, at).catch((error: unknown) => ({ ok: false as const, error: (error as Error).message }));
  if (!pushed.ok) log('warn', 'metrics_push_failed', { error: pushed.error });
}

/** The pass's tracer, noting on an error the step (and session) it escaped from. */
function locatingTracer(tracer: Tracer): Tracer {
  return {
    injectHeaders: () => tracer.injectHeaders(),
    span: (name, attrs, fn) =>
      tracer.span(name, attrs, async (span) => {
        try {
          return await fn(span);
        } catch (error) {
          const sessionId = attrs['trigger.session_id'];
          locate(error, { stage: 'pass', step: name, ...(typeof sessionId === 'number' ? { sessionId } : {}) });
          throw error;
        }
      }),
  };
}

export type TickOutcome = { kind: 'ran'; summary: PassSummary; tickId: string; durationMs: number } | { kind: 'locked'; message: string };

export interface RunTickOptions {
  config: AgentConfig;
  log: TickLogger;
  explain?: (line: string) => void;
  onDecision?: (decision: DecisionRecord) => void;
  now?: () => Date;
  /** How long to wait for the embedded database before giving up (a tick gives up fast: cron runs it again). */
  lockWaitMs: number;
  /**
   * A store the caller keeps open across passes and closes itself (`demo` runs its ticks on one PGlite instance:
   * each open starts a WASM heap that is freed only when V8 collects it).
   */
  store?: Store;
  /** Waits between polls of followed work (real time by default; the bench moves a simulated clock). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * One pass with everything around it: the database, the tick lock, tracing, the tick record and the metrics push.
 * Telemetry is loaded only when configured, and never fails the pass.
 */
export async function runTick(options: RunTickOptions): Promise<TickOutcome> {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  let tracing: Tracing | null = null;
  const target = storeTarget(config);
  // The store's first connection and the tick lock's dedicated one open together: each starts a PostgreSQL backend.
  const [opened, acquired] = await Promise.allSettled([
    options.store ?? openStore(target, { lockWaitMs: options.lockWaitMs, poolSize: Math.min(config.settings.AGENT_POLL_CONCURRENCY, 8) }),
    tryAcquireTickLock(target),
  ]);
  if (opened.status === 'rejected') {
    locate(opened.reason, { stage: 'open' });
    if (acquired.status === 'fulfilled') await acquired.value?.release().catch(() => {});
    if (opened.reason instanceof DatabaseBusyError) return { kind: 'locked', message: opened.reason.message };
    throw opened.reason;
  }
  const store = opened.value;
  const closeStore = () => (options.store ? Promise.resolve() : store.close());
  if (config.settings.AGENT_DESIGNER === 'claude') {
    for (const warning of modelWarnings(config.settings)) log('warn', 'model_deprecated', { warning });
  }
  if (acquired.status === 'rejected') {
    locate(acquired.reason, { stage: 'open' });
    await closeStore().catch(() => {});
    throw acquired.reason;
  }
  const started = now();
  const tickId = newTickId(started);
  try {
    const lock = acquired.value;
    if (!lock) return { kind: 'locked', message: 'another tick holds the tick lock (pg_try_advisory_lock); this one exits.' };
    try {
      // OTEL_* settings may come from the env file, which loadConfig reads but never copies into process.env.
      const otelEnv: NodeJS.ProcessEnv = { ...config.otelFromFiles, ...process.env };
      if (config.settings.OTEL_EXPORTER_OTLP_ENDPOINT) otelEnv.OTEL_EXPORTER_OTLP_ENDPOINT = config.settings.OTEL_EXPORTER_OTLP_ENDPOINT;
      if (otelEnv.OTEL_EXPORTER_OTLP_ENDPOINT || otelEnv.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
        const { startTracing } = await import('../telemetry/tracing.ts');
        tracing = await startTracing(otelEnv).catch((error: unknown) => {
          log('warn', 'tracing_unavailable', { error: (error as Error).message });
          return null;
        });
      }
      const tracer = tracing?.tracer ?? noopTracer;
      const ktrdr = createKtrdrClient(config, tracer, now);
      // Every statement of the pass (and of its tools) checks the tick lock first: a pass that lost it writes nothing.
      const guarded: Store = { ...store, db: store.db.withPlugin(new TickLockGuard(lock)) };
      await startTick(guarded.db, { id: tickId, startedAt: started, host: hostname() });
      let summary: PassSummary;
      try {
        summary = await tracer.span('trigger_check', { 'tick.id': tickId }, async (span) => {
          const passTracer = locatingTracer(tracer);
          const result = await new TriggerPass({
            store: guarded,
            config,
            ktrdr,
            designer: designerFactory(config, guarded, ktrdr, now, tracer),
            verifyTickLock: () => lock.verify(),
            warn: (event, fields) => log('warn', event, fields),
            ...(options.sleep ? { sleep: options.sleep } : {}),
            designerKind: config.settings.AGENT_DESIGNER,
            now,
            tickId,
            tracer: passTracer,
            ...(options.explain ? { explain: options.explain } : {}),
            ...(options.onDecision ? { onDecision: options.onDecision } : {}),
          }).run();
          const invoked = result.decisions.some((d) => d.invoked);
          span.setAttributes({
            'trigger.reason': result.decisions.find((d) => d.invoked)?.trigger ?? result.decisions[0]?.trigger ?? 'none',
            'trigger.agent_invoked': invoked,
            'trigger.budget_remaining_usd': result.budget.remainingUsd,
            'trigger.decisions': result.decisions.length,
          });
          return result;
        });
      } catch (error) {
        locate(error, { stage: 'pass' });
        await finishTick(store.db, { id: tickId, finishedAt: now(), status: 'error', summary: null, errorMessage: (error as Error).message }).catch(() => {});
        // A failed pass is pushed too: the gauges stay current and the last-success timestamp shows the gap.
        await pushMetrics(store, config, now(), log);
        throw error;
      }
      const health = tickHealth(summary);
      // A degraded tick ran, but a dependency kept it from its work: `status` and the logs say so.
      const status = health.status === 'paused' ? 'paused' : health.status === 'ok' ? 'ok' : 'degraded';
      await finishTick(store.db, { id: tickId, finishedAt: now(), status, summary }).catch((error: unknown) => {
        locate(error, { stage: 'finish' });
        throw error;
      });
      await pushMetrics(store, config, now(), log);
      return { kind: 'ran', summary, tickId, durationMs: now().getTime() - started.getTime() };
    } finally {
      await lock.release().catch(() => {});
    }
  } finally {
    await closeStore().catch(() => {});
    if (tracing) await tracing.shutdown(2000).catch(() => {});
  }
}
