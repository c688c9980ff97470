/**
 * More departures than rows: the board pages through them, a page each
 * pageSeconds, on wall-clock time so every sign at a stop turns together; or,
 * where the template says so, groups by route (its next times on one row).
 */
import type { BoardRow, LaterDeparture } from '../render/boardView';

export interface RowPage {
  rows: BoardRow[];
  /** 0-based page shown, and how many there are. */
  page: number;
  pages: number;
}

/** Departures per route kept in a grouped row: the next one and the one after. */
export const TIMES_PER_GROUP = 2;

function laterOf(row: BoardRow): LaterDeparture {
  const later: LaterDeparture = { time: row.time, source: row.source };
  if (row.stale) later.stale = true;
  if (row.heldMinutes !== undefined) later.heldMinutes = row.heldMinutes;
  return later;
}

/**
 * One row per route and destination, in the order of their next departure,
 * carrying the one after it. A cancelled trip keeps a row of its own: it is
 * news about that bus, not a time to wait for.
 */
export function groupByRoute(rows: BoardRow[]): BoardRow[] {
  const lines: BoardRow[] = [];
  const groups = new Map<string, BoardRow>();
  for (const row of rows) {
    if (row.source === 'cancelled') {
      lines.push(row);
      continue;
    }
    const key = `${row.route.trim()}\u0000${row.headsign.en.trim()}`;
    const group = groups.get(key);
    if (!group) {
      const line = { ...row, later: [] };
      groups.set(key, line);
      lines.push(line);
    } else if ((group.later?.length ?? 0) < TIMES_PER_GROUP - 1) {
      group.later = [...(group.later ?? []), laterOf(row)];
    }
  }
  return lines;
}

export function pageOfRows(
  rows: BoardRow[],
  rowsPerPage: number,
  overflow: 'page' | 'group-by-route',
  nowMs: number,
  pageSeconds: number,
): RowPage {
  const lines = overflow === 'group-by-route' ? groupByRoute(rows) : rows;
  const perPage = Math.max(1, rowsPerPage);
  const pages = Math.max(1, Math.ceil(lines.length / perPage));
  const page = Math.floor(nowMs / (Math.max(1, pageSeconds) * 1000)) % pages;
  return { rows: lines.slice(page * perPage, (page + 1) * perPage), page, pages };
}
