import { Args, Flags } from '@oclif/core';
import { AgentCommand, exitCodesHelp } from '../../core/cli/base-command.ts';
import { resetLockbox } from '../../core/cli/services/lockbox-reset.ts';
import type { LockboxResetResult } from '../../core/cli/views/promotion-schemas.ts';
import { withStore } from '../../core/cli/with-store.ts';

export default class LockboxReset extends AgentCommand {
  static override summary =
    'Burn the lockbox of a symbol and timeframe deliberately: its data joins the search period and a new boundary is fixed from the most recent data.';
  static override description =
    `Without --confirm nothing changes and it exits 1, saying why. A symbol and timeframe with no boundary in force exits 4. The burned boundary stays listed by \`lockbox\`, with its consultations.\n\n${exitCodesHelp}`;
  static override enableJsonFlag = true;
  static override args = {
    symbol: Args.string({ description: 'Symbol, as `lockbox` lists it (e.g. EURUSD).', required: true }),
    timeframe: Args.string({ description: 'Timeframe, as `lockbox` lists it (e.g. 1h).', required: true }),
  };
  static override flags = { confirm: Flags.boolean({ description: 'Really burn it (the data it held back has then been seen).', default: false }) };
  static override examples = ['<%= config.bin %> lockbox reset EURUSD 1h --confirm'];

  async run(): Promise<LockboxResetResult> {
    const { args, flags } = await this.parse(LockboxReset);
    const config = this.loadAgentConfig(flags['env-file']);
    const result = await withStore(config, (db) =>
      resetLockbox(db, { symbol: args.symbol, timeframe: args.timeframe, confirm: flags.confirm, now: new Date() }),
    );
    if (!this.jsonEnabled()) {
      this.log(
        `Lockbox of ${result.symbol} ${result.timeframe} from ${result.burned.startDate} burned (consulted ${result.burned.consultations} time(s)). The next need fixes a new boundary from KTRDR's most recent data.`,
      );
    }
    return result;
  }
}
