// Which parts of the `status --watch` frame fit the terminal's rows, so the frame never scrolls: the current cycle
// always shows (a card each when there is room, a line each when not), then the budget, the recent cycles and the
// last tick as rows allow. A frame taller than the terminal would push its top, the current cycle, off screen.
import { wrapPlain } from '../terminal-width.ts';
import type { StatusView } from '../views/schemas.ts';

/** The App's own rows around the dashboard: its header line, and the footer with the blank line above it. */
export const APP_ROWS = 3;
/** A session card: its border (2), title, times, operation and progress bar. */
export const CARD_ROWS = 6;
/** A gap, the gauge's three lines, and the promotions line under it. */
const BUDGET_ROWS = 5;
/** A gap, the heading and at least one line. */
const RECENT_MIN_ROWS = 3;
/** A gap, the headline, the "… N more" line and the stale warning, which can show whatever the details. */
const TICK_MIN_ROWS = 4;
const TICK_DETAILS_MAX = 3;

export interface DashboardLayout {
  /** Fault banners as one cut line each (no advice): on a short terminal they would push the cycle off screen. */
  compactBanners: boolean;
  compact: boolean;
  /** Active sessions drawn (cards or lines). */
  cycles: number;
  /** Finished cycles listed; null hides the section. */
  recent: number | null;
  budget: boolean;
  /** Decision lines under the last tick; null hides the section. */
  tickDetails: number | null;
}

/** Rows of the fault banners: wrapped at words inside a double border with padding (four columns fewer), or one line each. */
function faultRows(view: StatusView, width: number, compact: boolean): number {
  const faults = view.banners.filter((banner) => banner.kind !== 'paused');
  if (faults.length === 0) return 0;
  if (compact) return 2 + faults.length;
  const inner = Math.max(10, width - 4);
  return 2 + faults.reduce((sum, b) => sum + wrapPlain(`⚠  ${b.message}`, inner).length + wrapPlain(`   ${b.advice}`, inner).length, 0);
}

/** The layout for a terminal of `height` rows (undefined: no limit, everything shows) and `width` columns. */
export function dashboardLayout(view: StatusView, width: number, height: number | undefined): DashboardLayout {
  if (height === undefined)
    return { compactBanners: false, compact: false, cycles: view.active.length, recent: view.recent.length, budget: true, tickDetails: TICK_DETAILS_MAX };
  const pauseRows = view.paused ? 4 : 0;
  // The title and the workers' utilization line under it.
  const titleRows = 2;
  // Full banners only when they leave the title and a line per session (or the idle line) below them.
  const compactBanners = height - APP_ROWS - pauseRows - faultRows(view, width, false) - titleRows < Math.max(1, view.active.length);
  let left = height - APP_ROWS - pauseRows - faultRows(view, width, compactBanners) - titleRows;
  const others = BUDGET_ROWS + RECENT_MIN_ROWS + TICK_MIN_ROWS;
  const compact = view.active.length * CARD_ROWS + others > left;
  let cycles: number;
  if (view.active.length === 0) {
    cycles = 0;
    left -= 1;
  } else if (!compact) {
    cycles = view.active.length;
    left -= cycles * CARD_ROWS + (view.activeTotal > cycles ? 1 : 0);
  } else {
    // One line per session, leaving the other sections their least when there is room for them; at least one.
    // A "+ N more" line counts the ones left out.
    const lines = Math.max(1, Math.min(view.active.length, left - others));
    cycles = view.activeTotal > lines ? Math.max(1, lines - 1) : lines;
    left -= cycles + (view.activeTotal > cycles ? 1 : 0);
  }
  const budget = left >= BUDGET_ROWS;
  if (budget) left -= BUDGET_ROWS;
  let recent: number | null = null;
  if (left >= RECENT_MIN_ROWS) {
    recent = Math.max(view.recent.length === 0 ? 0 : 1, Math.min(view.recent.length, left - 2 - (left - 2 > TICK_MIN_ROWS ? TICK_MIN_ROWS : 0)));
    left -= 2 + Math.max(1, recent);
  }
  const tickDetails = left >= TICK_MIN_ROWS ? Math.min(TICK_DETAILS_MAX, left - TICK_MIN_ROWS) : null;
  return { compactBanners, compact, cycles, recent, budget, tickDetails };
}
