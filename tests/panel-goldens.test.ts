/**
 * Golden frames for every shipped panel profile, in Chinese and English, with
 * the longest names of the Halifax feed, an emergency, a warning sharing the
 * glass and a paged board. `UPDATE_GOLDEN=1` rewrites them together with the
 * magnified previews in docs/panels/ (LED dots, e-paper tone).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAbbreviationTables, loadAllPanelProfiles } from '../panels/catalog';
import { groupByRoute, pageOfRows } from '../device/board/paging';
import { renderPaperPng } from '../device/eink/paperPng';
import { renderGlassPng } from '../device/panel/glassPng';
import type { BoardRow, BoardView } from '../device/render/boardView';
import { frameToPng, pngToFrame } from '../device/render/png';
import { prepareProfile } from '../device/render/profileRender';
import { renderBoardWithStats } from '../device/render/renderBoard';
import type { ArrivalSource, PanelProfile } from '../shared';
import { HALIFAX_LONGEST_HEADSIGN, HALIFAX_LONGEST_STOP } from './helpers/halifaxNames';

const ROOT = path.join(import.meta.dirname, '..');
const GOLDEN_DIR = path.join(import.meta.dirname, 'golden', 'panels');
const PREVIEW_DIR = path.join(ROOT, 'docs', 'panels');
const profiles = loadAllPanelProfiles(path.join(ROOT, 'panels', 'profiles'));
const halifax = loadAbbreviationTables(path.join(ROOT, 'panels', 'abbreviations')).get('halifax');

/** 2025-06-03 14:03:20 in Halifax. */
const NOW = Date.UTC(2025, 5, 3, 17, 3, 20) / 1000;

const at = (minutes: number) => NOW + minutes * 60;
const row = (
  route: string,
  en: string,
  zh: string,
  minutes: number,
  source: ArrivalSource = 'live',
): BoardRow => ({
  route,
  headsign: { en, zh },
  time: at(minutes),
  source,
});

const ROWS: BoardRow[] = [
  row(
    HALIFAX_LONGEST_HEADSIGN[0],
    HALIFAX_LONGEST_HEADSIGN[1],
    '斯普林菲尔德快线 经萨克维尔总站',
    0,
  ),
  row('1', 'Spring Garden via Barrington', '春园路 经巴林顿街', 4),
  row('9B', '9B HERRING COVE VIA MUMFORD TERMINAL', '鲱鱼湾 经芒福德总站', 11),
  row('7', 'Robie Street', '罗比街', 17, 'scheduled'),
  row('10', 'Westphal via Dartmouth Bridge Terminal', '韦斯特法尔', 23),
  row('1', 'Spring Garden via Barrington', '春园路 经巴林顿街', 26),
  row('183', HALIFAX_LONGEST_HEADSIGN[1], '斯普林菲尔德快线 经萨克维尔总站', 38),
  row('9B', '9B HERRING COVE VIA MUMFORD TERMINAL', '鲱鱼湾 经芒福德总站', 44),
];

const WORD_ROWS: BoardRow[] = [
  { ...row('1', 'Spring Garden via Barrington', '春园路 经巴林顿街', 0), stopsAway: 1 },
  { ...row('9B', '9B HERRING COVE VIA MUMFORD TERMINAL', '鲱鱼湾 经芒福德总站', 1), atStop: true },
  row('7', 'Robie Street', '罗比街', 9, 'cancelled'),
];

const MARK_ROWS: BoardRow[] = [
  { ...row('1', 'Spring Garden via Barrington', '春园路 经巴林顿街', 3), stopsAway: 12 },
  row('7', 'Robie Street', '罗比街', 17, 'scheduled'),
  { ...row('10', 'Westphal via Dartmouth Bridge Terminal', '韦斯特法尔', 23), crowding: 'full' },
];

function boardView(profile: PanelProfile, language: 'zh' | 'en', rows: BoardRow[]): BoardView {
  return {
    width: profile.width,
    height: profile.height,
    language,
    now: NOW,
    timezone: 'America/Halifax',
    mode: 'live',
    stopName: { en: HALIFAX_LONGEST_STOP, zh: '圣玛格丽特湾路 总督湖道后' },
    rows,
    ...(halifax ? { abbreviations: halifax } : {}),
  };
}

const CASES: Record<string, (p: PanelProfile) => BoardView> = {
  'board-zh': (p) => boardView(p, 'zh', ROWS),
  'board-en': (p) => boardView(p, 'en', ROWS),
  'emergency-zh': (p) => ({
    ...boardView(p, 'zh', ROWS),
    announcement: {
      priority: 'emergency',
      text: {
        en: 'Stop closed: flooding on St Margarets Bay Rd. Use the stop at Governors Lake Dr.',
        zh: '因水浸本站暂停使用，请到总督湖道站候车。',
      },
    },
  }),
  'warning-en': (p) => ({
    ...boardView(p, 'en', ROWS),
    announcement: {
      priority: 'warning',
      text: {
        en: 'Route 9B detour: Herring Cove Rd closed between Purcells Cove Rd and Williams Lake Rd',
      },
    },
  }),
  // The status words wider than the time column: full where the row has room.
  'words-zh': (p) => boardView(p, 'zh', WORD_ROWS),
  'words-en': (p) => boardView(p, 'en', WORD_ROWS),
  // What the vehicle and the timetable add to a row: stops away, sched, crowding.
  'marks-zh': (p) => boardView(p, 'zh', MARK_ROWS),
  'marks-en': (p) => boardView(p, 'en', MARK_ROWS),
  // Stale live times, in a sign set to Traditional: the status line is the sign's own words.
  'stale-traditional-zh': (p) => ({
    ...boardView(p, 'zh', [{ ...ROWS[1]!, stale: true }, { ...ROWS[2]!, stale: true }, ROWS[3]!]),
    chineseScript: 'traditional',
  }),
  'first-bus-en': (p) => ({
    ...boardView(p, 'en', []),
    notice: { kind: 'first-bus', time: at(15 * 60 + 25), tomorrow: true },
  }),
  // Next two times per route (what group-by-route templates do with more departures than rows).
  'grouped-zh': (p) => boardView(p, 'zh', groupByRoute(ROWS)),
  'grouped-en': (p) => boardView(p, 'en', groupByRoute(ROWS)),
  'paged-en': (p) => {
    const layout = prepareProfile(p).layout;
    const { rows } = pageOfRows(
      ROWS,
      layout.rows.length,
      p.layout.overflow,
      1000 * p.layout.pageSeconds,
      p.layout.pageSeconds,
    );
    return boardView(p, 'en', rows);
  },
};

async function preview(profile: PanelProfile, png: Buffer): Promise<Buffer> {
  const { palette } = prepareProfile(profile);
  const frame = await pngToFrame(png, palette.rgb);
  if (!frame) throw new Error('golden does not decode');
  if (palette.emissive) return renderGlassPng(frame, { scale: profile.width <= 128 ? 6 : 4 });
  return renderPaperPng(frame, palette, profile.width < 400 ? 3 : 1);
}

describe('golden frames of every panel profile', () => {
  for (const profile of profiles.values()) {
    for (const [name, makeView] of Object.entries(CASES)) {
      it(`${profile.id} ${name}`, async () => {
        const { palette } = prepareProfile(profile);
        const { frame, inexactPixels } = renderBoardWithStats(makeView(profile), profile);
        expect(inexactPixels).toBe(0);
        const file = path.join(GOLDEN_DIR, profile.id, `${name}.png`);
        const png = frameToPng(frame, 1, palette.rgb);
        if (process.env.UPDATE_GOLDEN === '1') {
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, png);
          mkdirSync(PREVIEW_DIR, { recursive: true });
          writeFileSync(
            path.join(PREVIEW_DIR, `${profile.id}-${name}.png`),
            await preview(profile, png),
          );
          return;
        }
        expect(existsSync(file), `${file} missing: run with UPDATE_GOLDEN=1`).toBe(true);
        const golden = await pngToFrame(readFileSync(file), palette.rgb);
        expect(golden, 'golden holds colours the glass cannot show').not.toBeNull();
        const differing = frame.pixels.filter((p, i) => p !== golden!.pixels[i]).length;
        expect({ width: golden!.width, height: golden!.height, differing }).toEqual({
          width: frame.width,
          height: frame.height,
          differing: 0,
        });
      });
    }
  }
});
