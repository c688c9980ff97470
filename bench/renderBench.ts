/** Frame rendering and the serial bytes a frame costs. */
import { createCanvas } from 'canvas';
import { changedRect } from '../device/render/frame';
import { fullFramePacket, rectPacket } from '../device/panel/packets';
import type { BoardView } from '../device/render/boardView';
import { frameToPng } from '../device/render/png';
import { renderBoard } from '../device/render/renderBoard';
import { printFigures, timePerCall } from './measure';

export function benchRender(): void {
  const now = 1_795_600_000;
  const view = (language: 'zh' | 'en', at = now): BoardView => ({
    width: 192,
    height: 64,
    language,
    now: at,
    timezone: 'Asia/Hong_Kong',
    mode: 'live',
    stopName: { en: 'Central Station', zh: '中環站' },
    rows: [
      { route: '1', headsign: { en: 'Airport', zh: '機場' }, time: now + 120, source: 'live' },
      { route: '5X', headsign: { en: 'University', zh: '大學' }, time: now + 540, source: 'live' },
      {
        route: 'N8',
        headsign: { en: 'North Point', zh: '北角' },
        time: now + 1500,
        source: 'scheduled',
      },
    ],
  });
  renderBoard(view('zh'));
  // Floor for any canvas frame: clear a panel-sized canvas and read its pixels back.
  const canvas = createCanvas(192, 64);
  const ctx = canvas.getContext('2d');
  const baseline = timePerCall(() => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 192, 64);
    return ctx.getImageData(0, 0, 192, 64);
  }, 500);
  const pages = [view('zh'), view('en')];
  let page = 0;
  const render = timePerCall(() => renderBoard(pages[page++ % 2] as BoardView), 300);
  const frame = renderBoard(view('en'));
  const png = timePerCall(() => frameToPng(frame), 200);

  const minuteLater = renderBoard(view('en', now + 60));
  const rect = changedRect(frame, minuteLater);
  const full = fullFramePacket(1, minuteLater).length;
  const partial = rect ? rectPacket(1, minuteLater, rect).length : 0;
  printFigures('rendering (192x64 LED panel)', [
    {
      name: 'renderBoard, one frame',
      value: render,
      unit: 'ms',
      baseline: { name: 'clear+readback', value: baseline },
    },
    { name: 'frame → PNG for the console', value: png, unit: 'ms' },
    {
      name: 'serial bytes, minute tick as RECT',
      value: partial,
      unit: 'B',
      baseline: { name: 'full frame', value: full },
    },
  ]);
}
