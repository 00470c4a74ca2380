// The model's tools as a test calls them: a real store, a KTRDR (simulator) over HTTP and a strategies directory, in
// the context an invocation would give them, by name.
import type { Kysely } from 'kysely';
import { toolsFor, type ToolContext, type ToolDefinition } from '../../src/core/agent/tools.ts';
import type { AgentConfig } from '../../src/core/config/load.ts';
import type { Database } from '../../src/core/db/database-schema.ts';
import { KtrdrClient } from '../../src/core/ktrdr/index.ts';
import { StrategyStore } from '../../src/core/strategy/index.ts';

export function toolsByName(
  purpose: Parameters<typeof toolsFor>[0],
  input: { db: Kysely<Database>; sessionId: number; ktrdrUrl: string; strategiesDir: string; config: AgentConfig },
): Map<string, ToolDefinition> {
  const context: ToolContext = {
    db: input.db,
    sessionId: input.sessionId,
    ktrdr: new KtrdrClient({ baseUrl: input.ktrdrUrl }),
    strategies: new StrategyStore(input.strategiesDir),
    ktrdrUnreachable: false,
    config: input.config,
    now: () => new Date(),
    turn: { index: 1, tokensInput: null, tokensOutput: null },
  };
  return new Map(toolsFor(purpose, context).map((tool) => [tool.name, tool]));
}
