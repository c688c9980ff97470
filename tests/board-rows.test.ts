/**
 * What each panel profile fits into a departure row, checked on the plan the
 * renderer draws from: the time column measured from the profile's fonts,
 * status words in full where the glass allows, rt's row marks kept, names
 * shortened at a word, a grouped row's second time, and the sign's own
 * Chinese words in the script its config asks for.
 */
import path from 'node:path';
import { createCanvas } from 'canvas';
import * as OpenCC from 'opencc-js';
import { describe, expect, it } from 'vitest';
import { groupByRoute } from '../device/board/paging';
import { speakBoard } from '../device/speech/boardSpeech';
import type { BoardRow, BoardView } from '../device/render/boardView';
import { cropFrame, framesEqual } from '../device/render/frame';
import { prepareProfile } from '../device/render/profileRender';
import { planDepartures, renderBoard } from '../device/render/renderBoard';
import { MAX_COUNTDOWN_MINUTES, pageStrings } from '../device/render/textFormat';
import { TextPainter } from '../device/render/textPainter';
import { widestClock } from '../device/render/timeColumn';
import { inScript } from '../device/render/traditional';
import { ELLIPSIS } from '../device/render/wrap';
import { loadAllPanelProfiles } from '../panels/catalog';
import type { PanelProfile } from '../shared';

const ROOT = path.join(import.meta.dirname, '..');
const profiles = [...loadAllPanelProfiles(path.join(ROOT, 'panels', 'profiles')).values()];
const painter = new TextPainter(
  createCanvas(8, 8).getContext('2d'),
  createCanvas(8, 8).getContext('2d'),
);
/** 2025-06-03 14:00 in Halifax. */
const NOW = Date.UTC(2025, 5, 3, 17, 0, 0) / 1000;
const SMALL = 'led-128x32-mono';

const live = (
  route: string,
  en: string,
  seconds: number,
  extra: Partial<BoardRow> = {},
): BoardRow => ({ route, headsign: { en }, time: NOW + seconds, source: 'live', ...extra });

function view(profile: PanelProfile, rows: BoardRow[], patch: Partial<BoardView> = {}): BoardView {
  return {
    width: profile.width,
    height: profile.height,
    language: 'en',
    now: NOW,
    timezone: 'America/Halifax',
    mode: 'live',
    rows,
    ...patch,
  };
}

/**
 * The line of each shown row in the view's language (on a bilingual template,
 * whose rows are Chinese over English, the English one for an English view):
 * its time text, mark text and name as planned.
 */
function firstLines(profile: PanelProfile, rows: BoardRow[], patch: Partial<BoardView> = {}) {
  const english = (patch.language ?? 'en') === 'en';
  const plans = planDepartures(view(profile, rows, patch), profile).filter((l) => l.length > 0);
  return plans.map((lines) => {
    const line = english ? lines[lines.length - 1] : lines[0];
    return {
      time: line?.time.map((p) => p.text) ?? [],
      mark: line?.mark?.text ?? null,
      // A row without a Chinese name shows its English name once, on the first line.
      name: (line?.destination ?? lines.find((l) => l.destination)?.destination)?.text ?? null,
    };
  });
}

describe('the time column', () => {
  it("is measured with each profile's fonts to hold every countdown and clock time", () => {
    for (const profile of profiles) {
      const { layout } = prepareProfile(profile);
      const measure = (text: string) => painter.width(text, layout.fonts);
      const texts = [widestClock(measure), '23:59', '00:00'];
      for (const language of ['en', 'zh'] as const) {
        for (let n = 1; n <= MAX_COUNTDOWN_MINUTES; n++) {
          texts.push(pageStrings(language).minutes(n).full);
        }
      }
      const widest = Math.max(...texts.map(measure));
      for (const slot of layout.rows) expect(slot.time.width, profile.id).toBe(widest);
    }
  });

  it('writes Arriving, Boarding and Cancelled in full wherever the row keeps its least destination', () => {
    const zh = (row: BoardRow, name: string) => ({
      ...row,
      headsign: { ...row.headsign, zh: name },
    });
    const rows = [
      zh(live('1', 'Spring Garden via Barrington', 20), '春园路'),
      zh(live('9B', 'Herring Cove via Mumford Terminal', 60, { atStop: true }), '鲱鱼湾'),
      zh(live('7', 'Robie Street', 540, { source: 'cancelled' }), '罗比街'),
    ];
    for (const profile of profiles) {
      const lines = firstLines(profile, rows);
      const expected = ['Arriving', 'Boarding', 'Cancelled'].slice(0, lines.length);
      const compact = ['Arr', 'Brd', 'Canc'].slice(0, lines.length);
      expect(
        lines.map((l) => l.time[0]),
        profile.id,
      ).toEqual(profile.id === SMALL ? compact : expected);
      for (const line of lines) expect(line.name, profile.id).not.toBeNull();
    }
    // On 192x64, the three words used to show as Arr, Brd and Canc.
    const led = profiles.find((p) => p.id === 'led-192x64-tricolour')!;
    const { layout } = prepareProfile(led);
    const [plan] = planDepartures(view(led, rows), led);
    expect(plan![0]!.time[0]!.rect.width).toBeGreaterThan(layout.rows[0]!.time.width);
    expect(plan![0]!.destination!.rect.width).toBeGreaterThanOrEqual(layout.minDestinationWidth);
  });

  it('shows a grouped row with its route’s next time after the first, sharing the unit', () => {
    const rows = groupByRoute([
      live('1', 'Spring Garden', 240),
      live('7', 'Robie', 600, { source: 'scheduled' }),
      live('1', 'Spring Garden', 1560),
      live('7', 'Robie', 2400, { source: 'scheduled' }),
    ]);
    for (const profile of profiles) {
      const [first, second] = firstLines(profile, rows);
      if (profile.id === SMALL) {
        expect(first!.time).toEqual(['4,', '26m']); // 128 px: the second time in its compact form
        continue;
      }
      expect(first!.time, profile.id).toEqual(['4,', '26 min']);
      expect(second!.time, profile.id).toEqual(['14:10,', '14:40']);
    }
    // Chinese pages group the same way.
    const led = profiles.find((p) => p.id === 'led-256x64-red-green')!;
    const [zh] = firstLines(led, rows, { language: 'zh' });
    expect(zh!.time).toEqual(['4,', '26分钟']);
  });
});

describe('row marks and names', () => {
  const rows = [
    live('1', 'Spring Garden via Barrington', 180, { stopsAway: 12 }),
    live('7', 'Robie Street', 1020, { source: 'scheduled' }),
    live('10', 'Westphal via Dartmouth Bridge Terminal', 1380, { crowding: 'full' }),
  ];

  it('keeps stops away, sched and Full where they leave the name whole words', () => {
    for (const profile of profiles) {
      const lines = firstLines(profile, rows);
      const marks = lines.map((l) => l.mark);
      if (profile.id === SMALL) {
        // One row, 51 px of name: "12 stops" would leave it nothing but an ellipsis.
        expect(marks).toEqual([null]);
        continue;
      }
      expect(marks[0], profile.id).toMatch(/^12 st(ops)?$/);
      expect(marks[1], profile.id).toBe('sched');
      if (profile.id === 'led-192x64-tricolour') {
        // "Full" would cut Westphal inside the word: the name keeps its word, the mark gives way.
        expect(marks[2]).toBeNull();
        expect(lines[2]!.name).toBe(`Westphal${ELLIPSIS}`);
      } else expect(marks[2], profile.id).toBe('Full');
      lines.forEach((line, i) => {
        const name = line.name!;
        expect(name, profile.id).not.toBe(ELLIPSIS);
        const full = rows[i]!.headsign.en;
        const kept = name.endsWith(ELLIPSIS) ? name.slice(0, -ELLIPSIS.length) : name;
        expect(full.startsWith(kept) && [' ', undefined].includes(full[kept.length]), name).toBe(
          true,
        );
      });
    }
  });

  it('shortens a name beside a mark at a word, with an ellipsis, never through a word', () => {
    const led = profiles.find((p) => p.id === 'led-256x64-red-green')!;
    const full = 'Westphal via Dartmouth Bridge Terminal';
    const name = firstLines(led, rows)[2]!.name!;
    expect(name.endsWith(ELLIPSIS), name).toBe(true);
    const kept = name.slice(0, -ELLIPSIS.length);
    expect(kept.length).toBeGreaterThan(3);
    expect(full.startsWith(kept), name).toBe(true);
    expect(full[kept.length], name).toBe(' ');
  });

  it('gives a bilingual template’s rows an English line under the Chinese, time and mark too', () => {
    const paper = profiles.find((p) => p.id === 'eink-800x480-bw')!;
    const row = { ...rows[1]!, headsign: { en: 'Robie Street', zh: '罗比街' } };
    const [lines] = planDepartures(view(paper, [row], { language: 'zh' }), paper);
    expect(
      lines!.map((l) => [l.mark?.text, l.destination?.text, l.time.map((t) => t.text)]),
    ).toEqual([
      ['计划', '罗比街', ['14:17']],
      ['sched', 'Robie Street', ['14:17']],
    ]);
  });
});

describe('Simplified or Traditional Chinese', () => {
  const toTaiwan = OpenCC.Converter({ from: 'cn', to: 'tw' });

  /** Every built-in string a page or the speech can say. */
  function builtIn(): string[] {
    const s = pageStrings('zh');
    const phrases = [
      s.arriving,
      s.minutes(5),
      s.cancelled,
      s.scheduledMark,
      s.stopsAway(3),
      s.atStop,
      s.full,
      s.scheduled,
      s.notUpdating,
      s.noDepartures,
      s.serviceEnded,
      s.firstBus('05:30', true),
      s.firstBus('05:30', false),
      s.stopMissing,
    ];
    const board = speakBoard({
      stopName: { en: 'X', zh: 'X' },
      rows: [],
      mode: 'scheduled',
      announcements: [{ priority: 'emergency', text: { en: 'x', zh: 'x' } }],
      now: NOW,
      timezone: 'UTC',
    });
    return [...phrases.flatMap((p) => [p.full, p.compact]), board[0]!.text];
  }

  it('converts every built-in word the way OpenCC does', () => {
    for (const text of builtIn()) expect(inScript(text, 'traditional'), text).toBe(toTaiwan(text));
    const t = pageStrings('zh', 'traditional');
    expect([t.arriving.full, t.minutes(5).full, t.scheduledMark.full, t.notUpdating.full]).toEqual([
      '進站',
      '5分鐘',
      '計劃',
      '實時信息未更新',
    ]);
  });

  it('draws the sign’s own words in Traditional and the feed’s text as given', () => {
    const led = profiles.find((p) => p.id === 'led-192x64-tricolour')!;
    const { layout } = prepareProfile(led);
    const row = { ...live('42', 'Airport', 300), headsign: { en: 'Airport', zh: '机场' } };
    const patch = { language: 'zh' as const, chineseScript: 'traditional' as const };
    const simplified = renderBoard(view(led, [row], { language: 'zh' }), led);
    const traditional = renderBoard(view(led, [row], patch), led);
    const slot = layout.rows[0]!;
    // "5分鐘" is not "5分钟"; the feed's 机场 stays as it came.
    expect(framesEqual(cropFrame(simplified, slot.time), cropFrame(traditional, slot.time))).toBe(
      false,
    );
    expect(
      framesEqual(
        cropFrame(simplified, slot.destination),
        cropFrame(traditional, slot.destination),
      ),
    ).toBe(true);
    const [plan] = planDepartures(view(led, [row], patch), led);
    expect(plan![0]!.time[0]!.text).toBe('5分鐘');
    expect(plan![0]!.destination!.text).toBe('机场');
  });
});
