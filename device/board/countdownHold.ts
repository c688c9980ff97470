/**
 * Hysteresis for countdowns: predictions jitter by tens of seconds from one
 * feed to the next, and a countdown that goes 4, 5, 4 minutes reads as a lie.
 * A live row may go down freely, but going up by a single minute is held back;
 * a real delay (two minutes or more) shows at once.
 */
import type { BoardView } from '../render/boardView';
import { countdownMinutes } from '../render/textFormat';

export class CountdownHold {
  /** Trip id → minutes shown last. */
  private shown = new Map<string, number>();

  /** Returns the view with held minutes filled in, and remembers what it shows. */
  apply(view: BoardView): BoardView {
    const next = new Map<string, number>();
    const rows = view.rows.map((row) => {
      if (row.source !== 'live' || row.tripId === undefined || row.atStop) return row;
      const minutes = countdownMinutes(row.time, view.now);
      if (minutes === undefined) return row;
      const before = this.shown.get(row.tripId);
      if (before !== undefined && minutes === before + 1) {
        next.set(row.tripId, before);
        return { ...row, heldMinutes: before };
      }
      next.set(row.tripId, minutes);
      return row;
    });
    // Rows that left the board are forgotten, so a trip coming back starts afresh.
    this.shown = next;
    return { ...view, rows };
  }
}
