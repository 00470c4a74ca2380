import type { Migration } from 'kysely/migration';
import * as init from './20261124T120000000Z-init.ts';
import * as infrastructureFault from './20261201T080000000Z-infrastructure-fault.ts';

/** Every migration, in order. Listed explicitly so the bundler cannot drop one. */
export const migrations: Record<string, Migration> = {
  '20261124T120000000Z-init': init,
  '20261201T080000000Z-infrastructure-fault': infrastructureFault,
};

export const latestMigration = Object.keys(migrations).at(-1)!;
