import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Box, Text, useApp, useInput, useStdin, useWindowSize } from 'ink';
import type { StatusView } from '../views/schemas.ts';
import { Dashboard } from './dashboard.ts';
import { tone } from './tone.ts';

const h = React.createElement;

export interface AppProps {
  /** Reads a fresh status view; called once per refresh, never twice at once. */
  load: () => Promise<StatusView>;
  intervalMs: number;
  color: boolean;
  clock?: () => Date;
}

const systemClock = () => new Date();

/** Below this many columns the footer drops the refresh time so the keys fit. */
const NARROW = 60;

function clockTime(date: Date): string {
  return `${date.toISOString().slice(11, 19)} UTC`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** The live `status --watch` screen: refreshes from the database on an interval, q quits, r refreshes now. */
export function App({ load, intervalMs, color, clock = systemClock }: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const { isRawModeSupported } = useStdin();
  const [view, setView] = useState<StatusView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refreshedAt, setRefreshedAt] = useState<Date | null>(null);
  const [now, setNow] = useState(() => clock());
  const refreshNow = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let inFlight = false;
    let timer: NodeJS.Timeout | undefined;
    const refresh = async () => {
      clearTimeout(timer);
      if (inFlight) return;
      inFlight = true;
      try {
        const next = await load();
        if (stopped) return;
        setView(next);
        setError(null);
        setRefreshedAt(clock());
        setNow(clock());
      } catch (failure) {
        if (!stopped) setError(firstLine(failure));
      } finally {
        inFlight = false;
        if (!stopped) timer = setTimeout(refresh, intervalMs);
      }
    };
    refreshNow.current = () => void refresh();
    void refresh();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [load, intervalMs, clock]);

  // Times on screen (in phase, ago) advance every second between refreshes.
  useEffect(() => {
    const ticker = setInterval(() => setNow(clock()), 1000);
    return () => clearInterval(ticker);
  }, [clock]);

  const onKey = useCallback(
    (input: string, key: { escape: boolean }) => {
      if (input === 'q' || input === 'Q' || key.escape) exit();
      else if (input === 'r' || input === 'R') refreshNow.current();
    },
    [exit],
  );
  useInput(onKey, { isActive: isRawModeSupported === true });

  const width = Math.max(20, columns);
  const keys = isRawModeSupported ? ' · q quit · r refresh' : ' · Ctrl+C quits';
  const every = `every ${intervalMs / 1000}s`;
  // A narrow terminal keeps the keys: the header already shows the time.
  const footer = !refreshedAt ? `Loading…${keys}` : width >= NARROW ? `Refreshed ${clockTime(refreshedAt)} · ${every}${keys}` : `${keys.slice(3)} · ${every}`;
  return h(
    Box,
    { flexDirection: 'column', width: '100%' },
    h(Text, { wrap: 'truncate-end' }, h(Text, { bold: true }, 'ktrdr-agent status'), h(Text, { dimColor: color }, `  ${clockTime(now)}`)),
    // The error line, when shown, takes a row from the dashboard.
    view ? h(Dashboard, { view, now, width, height: rows - (error ? 1 : 0), color }) : null,
    error ? h(Text, { wrap: 'truncate-end', color: tone(color, 'red') }, `Refresh failed${view ? ' (showing the last good data)' : ''}: ${error}`) : null,
    h(Box, { marginTop: 1 }, h(Text, { wrap: 'truncate-end', dimColor: color }, footer)),
  );
}
