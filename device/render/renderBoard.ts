/**
 * The pure renderer: a BoardView in, an IndexedFrame out. No drivers, no clock;
 * the same view always gives the same pixels.
 */
import type { CanvasRenderingContext2D } from 'canvas';
import { createCanvas } from 'canvas';
import type { Board } from './boardSections';
import {
  drawAnnouncementPanel,
  drawDepartures,
  drawNoDepartures,
  drawNotice,
  drawStatusLine,
  placeAnnouncement,
} from './boardSections';
import type { BoardView } from './boardView';
import type { IndexedFrame } from './frame';
import { registerBoardFonts } from './fonts';
import { layoutFor } from './layout';
import type { QuantizeResult } from './quantize';
import { quantizeRgba } from './quantize';
import { TextPainter } from './textPainter';

interface Surface {
  ctx: CanvasRenderingContext2D;
  painter: TextPainter;
}

/**
 * One canvas per sign size, reused: creating a canvas and its text layout costs
 * more than drawing a frame. Each render clears it completely, so reuse cannot
 * leak one frame into the next.
 */
const surfaces = new Map<string, Surface>();

function surfaceFor(width: number, height: number): Surface {
  const key = `${width}x${height}`;
  let surface = surfaces.get(key);
  if (!surface) {
    registerBoardFonts(); // canvas only sees fonts registered before it is created
    const ctx = createCanvas(width, height).getContext('2d');
    const mask = createCanvas(width, height).getContext('2d');
    ctx.antialias = 'none';
    surface = { ctx, painter: new TextPainter(ctx, mask) };
    surfaces.set(key, surface);
  }
  return surface;
}

/** Renders and reports how many pixels needed snapping (0 unless a face misbehaves). */
export function renderBoardWithStats(view: BoardView): QuantizeResult {
  const { width, height } = view;
  const layout = layoutFor(width, height);
  const { ctx, painter } = surfaceFor(width, height);
  ctx.fillStyle = 'rgb(0,0,0)';
  ctx.fillRect(0, 0, width, height);

  const board: Board = { view, layout, painter };
  const announcement = placeAnnouncement(board);
  if (announcement.kind === 'panel') {
    drawAnnouncementPanel(board, announcement.text, announcement.colour);
  } else {
    if (view.notice) drawNotice(board);
    else if (view.rows.length > 0) drawDepartures(board);
    else drawNoDepartures(board);
    drawStatusLine(board, announcement.kind === 'status' ? announcement.text : undefined);
  }
  return quantizeRgba(ctx.getImageData(0, 0, width, height).data, width, height);
}

export function renderBoard(view: BoardView): IndexedFrame {
  return renderBoardWithStats(view).frame;
}

export { layoutFor } from './layout';
export type { BoardLayout, RowLayout, StatusLayout } from './layout';
