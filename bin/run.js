#!/usr/bin/env node
import module from 'node:module';

// Compiled bytecode is cached on disk, so later runs (cron, every 5 minutes) start faster.
module.enableCompileCache?.();

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
