/**
 * Per panel profile: render and encode time of a typical update (a minute
 * passes, countdowns change) beside a bare canvas drawing the same strings;
 * bytes a typical update sends beside a full frame; and for e-paper the
 * refreshes in an hour at a stop with 4 routes whose predictions change
 * every 20 s, beside one refresh per update.
 */
import path from 'node:path';
import { createCanvas } from 'canvas';
import { loadAllPanelProfiles } from '../panels/catalog';
import type { PanelProfile } from '../shared';
import { EinkPanel } from '../device/eink/einkPanel';
import { isEinkProfile, simulatedEink } from '../device/eink/einkFromProfile';
import { packGrey4, alignToWords } from '../device/eink/it8951';
import { alignToBytes, plane } from '../device/eink/uc8179';
import { fullFramePacket, rectPacket } from '../device/panel/packets';
import type { BoardRow, BoardView } from '../device/render/boardView';
import { faceCss } from '../device/render/fonts';
import { changedRect, type IndexedFrame } from '../device/render/frame';
import { prepareProfile } from '../device/render/profileRender';
import { renderBoard } from '../device/render/renderBoard';
import { ManualTime } from '../tests/helpers/manualTime';
import { medianPerCall, printFigures } from './measure';

const START = Date.UTC(2025, 5, 3, 12, 0, 0);
const ROUTES = [
  ['1', 'Spring Garden', '春园路'],
  ['7', 'Robie Street via Gottingen', '罗比街'],
  ['9A', 'Greystone via Mumford Terminal', '灰石'],
  ['183', '183 SPRINGFIELD EXPRESS VIA SACKVILLE TERMINAL', '斯普林菲尔德快线'],
] as const;

/** Arrivals at `t` (epoch s): each route every 12 min, predictions drifting a little each 20 s. */
function rowsAt(t: number): BoardRow[] {
  const rows: BoardRow[] = [];
  ROUTES.forEach(([route, en, zh], r) => {
    for (let k = 0; k < 3; k++) {
      const base = START / 1000 + r * 170 + k * 720;
      const next = base + Math.ceil((t - base) / 2880) * 2880;
      const drift = Math.round(25 * Math.sin((t / 20 + r * 3 + k) * 0.7));
      rows.push({ route, headsign: { en, zh }, time: next + drift, source: 'live' });
    }
  });
  return rows.filter((row) => row.time > t).sort((a, b) => a.time - b.time);
}

function viewAt(profile: PanelProfile, t: number, language: 'zh' | 'en'): BoardView {
  const step = profile.refresh.kind === 'eink' ? profile.refresh.timeStepSeconds : 1;
  return {
    width: profile.width,
    height: profile.height,
    language,
    now: Math.floor(t / step) * step,
    timezone: 'America/Halifax',
    mode: 'live',
    stopName: { en: 'Barrington St Before Spring Garden Rd', zh: '巴林顿街' },
    rows: rowsAt(t),
  };
}

/** The floor: the same strings filled onto a bare canvas of the glass, read back once. */
function bareFill(profile: PanelProfile, view: BoardView): () => unknown {
  const { layout } = prepareProfile(profile);
  const ctx = createCanvas(profile.width, profile.height).getContext('2d');
  const texts: [string, number, number][] = [];
  layout.rows.forEach((slot, i) => {
    const row = view.rows[i];
    if (!row) return;
    texts.push([row.route, slot.route.x, slot.route.y]);
    texts.push([row.headsign.zh ?? row.headsign.en, slot.destination.x, slot.destination.y]);
    texts.push(['12 min', slot.time.x, slot.time.y]);
  });
  const css = faceCss(layout.fonts.latin);
  return () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, profile.width, profile.height);
    ctx.fillStyle = '#fff';
    ctx.font = css;
    for (const [text, x, y] of texts) ctx.fillText(text, x, y + layout.fonts.latin.baseline);
    return ctx.getImageData(0, 0, profile.width, profile.height);
  };
}

/** What goes over the wire for `next` when `previous` is on the glass. */
function encode(profile: PanelProfile, previous: IndexedFrame, next: IndexedFrame): Buffer {
  const rect = changedRect(previous, next) ?? { x: 0, y: 0, width: 1, height: 1 };
  if (profile.driver.type === 'led-serial') return rectPacket(1, next, rect);
  if (profile.driver.type === 'it8951') return packGrey4(next, alignToWords(rect, next.width));
  const window = alignToBytes(rect, next.width);
  if (profile.colour.model === 'bwr-eink') {
    const all = { x: 0, y: 0, width: next.width, height: next.height };
    return Buffer.concat([plane(next, all, (p) => p !== 1), plane(next, all, (p) => p === 2)]);
  }
  return Buffer.concat([
    plane(previous, window, (p) => p === 0),
    plane(next, window, (p) => p === 0),
  ]);
}

function fullFrameBytes(profile: PanelProfile, frame: IndexedFrame): number {
  if (profile.driver.type === 'led-serial') return fullFramePacket(1, frame).length;
  const all = { x: 0, y: 0, width: frame.width, height: frame.height };
  if (profile.driver.type === 'it8951') return packGrey4(frame, all).length;
  return 2 * plane(frame, all, () => true).length;
}

/** One hour of the sign at this stop on simulated paper: how often it refreshed. */
async function einkHour(
  profile: PanelProfile,
): Promise<{ full: number; partial: number; updates: number }> {
  if (!isEinkProfile(profile)) throw new Error('not e-paper');
  const time = new ManualTime(START);
  const { controller, simulator } = simulatedEink(profile, time.clock);
  const panel = new EinkPanel({
    controller,
    policy: profile.refresh,
    width: profile.width,
    height: profile.height,
    clock: time.clock,
    timers: time,
  });
  await panel.start();
  let updates = 0;
  for (let s = 0; s < 3600; s += 20) {
    await panel.show(renderBoard(viewAt(profile, time.clock() / 1000, 'zh'), profile));
    updates++;
    time.advance(20_000);
    await panel.settled();
  }
  await panel.stop();
  if (simulator.violations.length > 0) throw new Error(simulator.violations.join('; '));
  return { ...simulator.refreshes, updates };
}

export async function benchPanels(): Promise<void> {
  const profiles = loadAllPanelProfiles(path.join(import.meta.dirname, '..', 'panels', 'profiles'));
  for (const profile of profiles.values()) {
    const t0 = START / 1000;
    const big = profile.width * profile.height > 100_000;
    const calls = big ? 15 : 100;
    // A typical update: the same departures a minute later, so every countdown drops by one.
    const first = viewAt(profile, t0, 'zh');
    const views = [first, { ...first, now: first.now + 60 }];
    let i = 0;
    const render = medianPerCall(() => renderBoard(views[i++ % 2]!, profile), calls);
    const floor = medianPerCall(bareFill(profile, views[0]!), calls);
    const before = renderBoard(views[0]!, profile);
    const after = renderBoard(views[1]!, profile);
    const encodeMs = medianPerCall(() => encode(profile, before, after), calls);
    const bytes = encode(profile, before, after).length;
    const figures = [
      {
        name: 'render one update',
        value: render,
        unit: 'ms',
        baseline: { name: 'bare canvas fill', value: floor },
      },
      {
        name: 'encode one update',
        value: encodeMs,
        unit: 'ms',
        baseline: { name: 'bare canvas fill', value: floor },
      },
      {
        name: `bytes of a typical update (${profile.driver.type === 'led-serial' ? 'serial RECT' : 'SPI image data'})`,
        value: bytes,
        unit: 'B',
        baseline: { name: 'full frame', value: fullFrameBytes(profile, after) },
      },
    ];
    if (isEinkProfile(profile)) {
      const hour = await einkHour(profile);
      figures.push({
        name: `refreshes per hour, 4 routes updated every 20 s (${hour.full} full, ${hour.partial} partial)`,
        value: hour.full + hour.partial,
        unit: '/h',
        baseline: { name: 'one per update', value: hour.updates },
      });
    }
    printFigures(`panel ${profile.id} (${profile.width}x${profile.height})`, figures);
  }
}
