// Makes an empty embedded database (PGlite's initdb, nothing migrated) in a directory: a first open copies it instead
// of running initdb, which peaks near 700 MiB on the user's machine (a copy: no more than any other open).
// Usage: node --liftoff-only scripts/pgdata-template.ts <dir>
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pgdata-template.ts <dir>');
const pglite = new PGlite(dir);
await pglite.waitReady;
await pglite.close();
