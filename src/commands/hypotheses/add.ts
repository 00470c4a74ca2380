import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { addHypothesisByOperator } from '../../core/cli/services/hypotheses-add.ts';
import type { HypothesisEntry } from '../../core/cli/views/schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';
import { terminalLine } from '../../core/cli/terminal-text.ts';

export default class HypothesesAdd extends AgentCommand {
  static override summary = 'Add a hypothesis for the designer to test (it sees the open ones in its research memory).';
  static override description = `The text takes 10 to 1000 characters; it is stored as given (NUL bytes replaced), never interpreted.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = { text: Args.string({ description: 'What you expect, and where: e.g. "MFI with Aroon finds swings on GBPUSD 1h".', required: true }) };
  static override flags = { rationale: Flags.string({ description: 'Why you expect it.' }) };
  static override examples = [
    '<%= config.bin %> hypotheses add "RSI with ADX generalises from EURUSD to GBPUSD"',
    '<%= config.bin %> hypotheses add "MFI adds money flow RSI lacks" --rationale "volume leads price" --json',
  ];

  async run(): Promise<HypothesisEntry> {
    const { args, flags } = await this.parse(HypothesesAdd);
    const config = this.loadAgentConfig();
    const entry = await withStore(config, (db) => addHypothesisByOperator(db, { text: args.text, rationale: flags.rationale ?? null, now: new Date() }));
    if (!this.jsonEnabled()) this.log(`Added hypothesis H${entry.id} (untested): ${terminalLine(entry.text)}`);
    return entry;
  }
}
