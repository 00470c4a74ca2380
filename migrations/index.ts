import type { Migration } from 'kysely/migration';
import * as init from './20261124T120000000Z-init.ts';
import * as infrastructureFault from './20261201T080000000Z-infrastructure-fault.ts';
import * as spendEstimates from './20261201T081100000Z-spend-estimates.ts';
import * as installation from './20261201T081500000Z-installation.ts';
import * as researchMemory from './20261201T081500000Z-research-memory.ts';
import * as messageBatches from './20261201T093000000Z-message-batches.ts';
import * as usageRegionTier from './20261206T120000000Z-usage-region-tier.ts';
import * as indicatorPairTallies from './20261206T121000000Z-indicator-pair-tallies.ts';
import * as ktrdrFaultClass from './20261206T122000000Z-ktrdr-fault-class.ts';
import * as toolErrorKind from './20261206T123000000Z-tool-error-kind.ts';
import * as lockboxPromotions from './20261207T100000000Z-lockbox-promotions.ts';
import * as hypothesisSupported from './20261207T105000000Z-hypothesis-supported.ts';
import * as verdictShownStatus from './20261207T105100000Z-verdict-shown-status.ts';
import * as designClaims from './20261207T105200000Z-design-claims.ts';
import * as designFailures from './20261207T105300000Z-design-failures.ts';
import * as searchDirective from './20261207T110000000Z-search-directive.ts';
import * as ktrdrClock from './20261207T120000000Z-ktrdr-clock.ts';

/** Every migration, in order. Listed explicitly so the bundler cannot drop one. */
export const migrations: Record<string, Migration> = {
  '20261124T120000000Z-init': init,
  '20261201T080000000Z-infrastructure-fault': infrastructureFault,
  '20261201T081100000Z-spend-estimates': spendEstimates,
  '20261201T081500000Z-installation': installation,
  '20261201T081500000Z-research-memory': researchMemory,
  '20261201T093000000Z-message-batches': messageBatches,
  '20261206T120000000Z-usage-region-tier': usageRegionTier,
  '20261206T121000000Z-indicator-pair-tallies': indicatorPairTallies,
  '20261206T122000000Z-ktrdr-fault-class': ktrdrFaultClass,
  '20261206T123000000Z-tool-error-kind': toolErrorKind,
  '20261207T100000000Z-lockbox-promotions': lockboxPromotions,
  '20261207T105000000Z-hypothesis-supported': hypothesisSupported,
  '20261207T105100000Z-verdict-shown-status': verdictShownStatus,
  '20261207T105200000Z-design-claims': designClaims,
  '20261207T105300000Z-design-failures': designFailures,
  '20261207T110000000Z-search-directive': searchDirective,
  '20261207T120000000Z-ktrdr-clock': ktrdrClock,
};

export const latestMigration = Object.keys(migrations).at(-1)!;
