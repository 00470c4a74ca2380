#!/usr/bin/env -S node --
// Development entry: rebuilds the bundle from src/ and ignores any oclif.manifest.json, so nothing is ever stale.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
execFileSync(process.execPath, ['scripts/build.ts', '--no-manifest'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const { execute } = await import('@oclif/core');
await execute({ development: true, loadOptions: { root, ignoreManifest: true } });
