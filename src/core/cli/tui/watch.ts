// Entry of `status --watch`, imported lazily by the status command so that nothing else loads React or Ink.
import React from 'react';
import { render, renderToString } from 'ink';
import type { AgentConfig } from '../../config/load.ts';
import { openStore, storeTarget, type Store } from '../../db/connect.ts';
import { useColor } from '../format.ts';
import { outputWidth } from '../terminal-width.ts';
import type { StatusView } from '../views/schemas.ts';
import { loadStatusView } from '../views/status-view.ts';
import { viewSettings } from '../views/view-settings.ts';
import { withStore } from '../with-store.ts';
import { App } from './app.ts';
import { Dashboard } from './dashboard.ts';
import { terminalView } from '../terminal-text.ts';

const h = React.createElement;

/** Cursor home, then erase to the end of the screen: the alternate screen holds only our frame. */
const CLEAR_SCREEN = '\u001b[H\u001b[J';

export interface WatchOptions {
  config: AgentConfig;
  intervalSeconds: number;
  recentLimit: number;
}

// A refresh waits this long at most for the embedded database; a tick holding it longer shows as a failed refresh
// and the next one tries again, so the screen never freezes behind a tick.
const PGLITE_REFRESH_LOCK_WAIT_MS = 1500;

/** Reads status views: one pool for PostgreSQL, an open-read-close per refresh for PGlite (cron ticks need its lock). */
export function statusLoader(config: AgentConfig, recentLimit: number): { load: () => Promise<StatusView>; close: () => Promise<void> } {
  const target = storeTarget(config);
  const settings = viewSettings(config);
  const read = async (store: Store) => terminalView(await loadStatusView(store.db, { now: new Date(), recentLimit, ...settings }));
  if (target.kind === 'pglite') {
    return {
      load: async () => {
        const store = await openStore(target, { lockWaitMs: PGLITE_REFRESH_LOCK_WAIT_MS });
        try {
          return await read(store);
        } finally {
          await store.close();
        }
      },
      close: async () => {},
    };
  }
  let opened: Promise<Store> | null = null;
  return {
    load: async () => {
      opened ??= openStore(target, { poolSize: 2 }).catch((error: unknown) => {
        opened = null;
        throw error;
      });
      return read(await opened);
    },
    close: async () => {
      if (opened) await (await opened.catch(() => null))?.close();
    },
  };
}

/**
 * Draws the live dashboard until q. Without a terminal (cron, a pipe) it prints one frame and returns, so nothing
 * ever waits for a key that cannot come.
 */
export async function runStatusWatch(options: WatchOptions): Promise<StatusView | null> {
  if (!process.stdout.isTTY) {
    const settings = viewSettings(options.config);
    const view = terminalView(await withStore(options.config, (db) => loadStatusView(db, { now: new Date(), recentLimit: options.recentLimit, ...settings })));
    const width = outputWidth() ?? 100;
    const frame = renderToString(h(Dashboard, { view, now: new Date(view.generatedAt), width, color: false }), { columns: width });
    process.stdout.write(`${frame}\n`);
    return view;
  }
  const loader = statusLoader(options.config, options.recentLimit);
  // On every resize the whole screen is wiped and the frame drawn afresh: a terminal reflows the old frame's lines
  // when it narrows, and Ink, which erases only the rows it drew, would leave the pieces. Registered before render()
  // so it runs before Ink's own resize handler, which then draws the frame it no longer counts as on screen.
  let instance: ReturnType<typeof render> | undefined;
  const clearOnResize = () => {
    instance?.clear();
    process.stdout.write(CLEAR_SCREEN);
  };
  process.stdout.on('resize', clearOnResize);
  try {
    instance = render(h(App, { load: loader.load, intervalMs: options.intervalSeconds * 1000, color: useColor() }), {
      alternateScreen: true,
      exitOnCtrlC: true,
      patchConsole: false,
    });
    // Without raw-mode input (stdin not a terminal) Ctrl+C arrives as a signal, and an SSH hang-up as SIGHUP:
    // unmount either way so the terminal gets its main screen and cursor back.
    const running = instance;
    const stop = () => running.unmount();
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const signal of signals) process.once(signal, stop);
    try {
      await running.waitUntilExit();
    } finally {
      for (const signal of signals) process.off(signal, stop);
    }
    return null;
  } finally {
    process.stdout.off('resize', clearOnResize);
    await loader.close();
  }
}
