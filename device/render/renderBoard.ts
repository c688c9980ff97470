/**
 * The pure renderer: a BoardView in, an IndexedFrame out. No drivers, no clock;
 * the same view always gives the same pixels.
 */
import type { CanvasRenderingContext2D } from 'canvas';
import { createCanvas } from 'canvas';
import type { Board } from './boardSections';
import { drawNoDepartures, drawNotice, drawStatusLine } from './boardSections';
import { drawDepartures, planRow, type LinePlan } from './departureRows';
import { drawNoticeLines, drawNoticePanel, placeNotice } from './noticePlacement';
import type { BoardView } from './boardView';
import type { IndexedFrame } from './frame';
import { registerBoardFonts } from './fonts';
import { layoutFor } from './layout';
import type { QuantizeResult } from './quantize';
import { quantizeRgba } from './quantize';
import { TextPainter } from './textPainter';
import type { PanelProfile } from '../../shared';
import { bilingual, drawHeader } from './bilingualSections';
import { toGlass } from './glassPalette';
import { drawableView, prepareProfile } from './profileRender';
import { fitStopName } from './destinationNames';

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

/** The view as the glass will show it, with the layout and painter to draw it. */
function prepareBoard(view: BoardView, profile?: PanelProfile) {
  const target = profile ? prepareProfile(profile) : null;
  const layout = target?.layout ?? layoutFor(view.width, view.height);
  const { ctx, painter } = surfaceFor(layout.width, layout.height);
  const drawable = target ? drawableView(view, target.canDraw) : view;
  const fitted = target
    ? fitStopName(drawable, layout, painter, view.abbreviations ?? [])
    : drawable;
  const board: Board = { view: bilingual(fitted, layout), layout, painter };
  return { board, target, ctx };
}

/** What each departure row's lines would say, and where: the fitting without the drawing. */
export function planDepartures(view: BoardView, profile?: PanelProfile): LinePlan[][] {
  const { board } = prepareBoard(view, profile);
  return board.layout.rows.map((_, i) => planRow(board, i));
}

/**
 * Renders and reports how many pixels needed snapping (0 unless a face
 * misbehaves). With a profile, the layout, fonts and colours are the
 * profile's and the frame is in its glass's own indices; without, the legacy
 * size table and the LED palette are used.
 */
export function renderBoardWithStats(view: BoardView, profile?: PanelProfile): QuantizeResult {
  const { board, target, ctx } = prepareBoard(view, profile);
  const { layout } = board;
  const shown = board.view;
  const { width, height } = layout;
  ctx.fillStyle = 'rgb(0,0,0)';
  ctx.fillRect(0, 0, width, height);

  if (layout.header) drawHeader(board);
  const notice = placeNotice(board);
  if (notice.kind === 'panel') {
    drawNoticePanel(board, notice.lines, notice.colour);
  } else {
    // A notice on lines of its own leaves the rows above it to the departures.
    const rowsBoard = notice.kind === 'lines' ? { ...board, layout: notice.layout } : board;
    if (shown.notice) drawNotice(rowsBoard);
    else if (shown.rows.length > 0) drawDepartures(rowsBoard);
    else drawNoDepartures(rowsBoard);
    if (notice.kind === 'lines') drawNoticeLines(board, notice.lines, notice.rects, notice.colour);
    drawStatusLine(board, notice.kind === 'status' ? notice.text : undefined);
  }
  const result = quantizeRgba(ctx.getImageData(0, 0, width, height).data, width, height);
  return target ? { ...result, frame: toGlass(result.frame, target.palette) } : result;
}

export function renderBoard(view: BoardView, profile?: PanelProfile): IndexedFrame {
  return renderBoardWithStats(view, profile).frame;
}

export { layoutFor } from './layout';
export type { BoardLayout, RowLayout, StatusLayout } from './layout';
