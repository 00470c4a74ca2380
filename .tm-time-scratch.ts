import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { buildMetricsSnapshot } from './src/core/telemetry/tick-metrics.ts';
const pool = new pg.Pool({ connectionString: process.argv[2], max: 1 });
const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }), log: (e) => console.log(Math.round(e.queryDurationMillis), e.query.sql.replace(/\s+/g, ' ').slice(0, 70)) });
for (let i = 0; i < 2; i++) { const t = Date.now(); await buildMetricsSnapshot(db, new Date(), {}); console.log('total', Date.now() - t); }
await db.destroy();
