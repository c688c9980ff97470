import fs from 'node:fs';
import path from 'node:path';
import { createCanvas } from 'canvas';
import { strFromU8, unzipSync } from 'fflate';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadAbbreviationTables, loadAllPanelProfiles } from '../panels/catalog';
import { groupByRoute, pageOfRows } from '../device/board/paging';
import type { BoardRow, BoardView } from '../device/render/boardView';
import {
  abbreviate,
  fitDestination,
  fitStopName,
  withoutRoutePrefix,
} from '../device/render/destinationNames';
import { framesEqual } from '../device/render/frame';
import { prepareProfile } from '../device/render/profileRender';
import { renderBoard } from '../device/render/renderBoard';
import { shortenToFit } from '../device/render/shorten';
import { TextPainter } from '../device/render/textPainter';
import { ELLIPSIS } from '../device/render/wrap';
import { HALIFAX_LONGEST_HEADSIGN, HALIFAX_LONGEST_STOP } from './helpers/halifaxNames';

const ROOT = path.join(import.meta.dirname, '..');
const profiles = loadAllPanelProfiles(path.join(ROOT, 'panels', 'profiles'));
const tables = loadAbbreviationTables(path.join(ROOT, 'panels', 'abbreviations'));
const halifax = tables.get('halifax')!;
const painter = new TextPainter(
  createCanvas(8, 8).getContext('2d'),
  createCanvas(8, 8).getContext('2d'),
);
const NOW = Date.UTC(2025, 5, 3, 14, 0, 0) / 1000;

function row(route: string, en: string, minutes: number, zh?: string): BoardRow {
  return { route, headsign: zh ? { en, zh } : { en }, time: NOW + minutes * 60, source: 'live' };
}

/** The text before the ellipsis ends where a word of `full` ends. */
function endsAtWord(shortened: string, full: string): boolean {
  const kept = shortened.slice(0, -ELLIPSIS.length);
  const next = full.slice(kept.length);
  return full.startsWith(kept) && /^[\s\-/,.]/u.test(next);
}

describe('names that fit', () => {
  it('drops the route number a headsign repeats, and only that route', () => {
    expect(withoutRoutePrefix('138 PARKLAND', '138')).toBe('PARKLAND');
    expect(withoutRoutePrefix('9B - Herring Cove', '9B')).toBe('Herring Cove');
    expect(withoutRoutePrefix('138A LACEWOOD', '138')).toBe('138A LACEWOOD');
    expect(withoutRoutePrefix('138', '138')).toBe('138');
  });

  it("applies the agency's abbreviations to whole words, keeping capitals", () => {
    expect(abbreviate('183 SPRINGFIELD EXPRESS VIA SACKVILLE TERMINAL', halifax)).toBe(
      '183 SPRINGFIELD EXP VIA SACKVILLE TERM',
    );
    expect(abbreviate('Barrington St Before Spring Garden Rd', halifax)).toBe(
      'Barr St Bef Spr Gdn Rd',
    );
    expect(abbreviate('Streetsville', halifax)).toBe('Streetsville');
  });

  it('shortens at a word with an ellipsis, never mid-word', () => {
    const fonts = prepareProfile(profiles.get('led-192x64-tricolour')!).layout.fonts;
    for (const [text, width] of [
      ['San Jose Diridon Station', 90],
      ['Barrington St Before Spring Garden', 100],
      ['Shanghai Pudong International Airport', 110],
    ] as const) {
      const short = shortenToFit(text, width, painter, fonts);
      expect(short.endsWith(ELLIPSIS), short).toBe(true);
      expect(endsAtWord(short, text), short).toBe(true);
      expect(painter.width(short, fonts)).toBeLessThanOrEqual(width);
    }
    expect(shortenToFit('上海浦东国际机场', 60, painter, fonts)).toMatch(/^上海浦.*…$/u);
    expect(shortenToFit('Fits', 100, painter, fonts)).toBe('Fits');
  });

  it('fits the longest Halifax names on every panel', () => {
    for (const profile of profiles.values()) {
      const { layout } = prepareProfile(profile);
      const view = {
        width: profile.width,
        height: profile.height,
        language: 'en',
        now: NOW,
        timezone: 'America/Halifax',
        mode: 'live',
        stopName: { en: HALIFAX_LONGEST_STOP },
        rows: [row(HALIFAX_LONGEST_HEADSIGN[0], HALIFAX_LONGEST_HEADSIGN[1], 4)],
      } as BoardView;
      const width = layout.rows[0]!.destination.width;
      const [route, headsign] = HALIFAX_LONGEST_HEADSIGN;
      const name = fitDestination(headsign, route, width, halifax, painter, layout.fonts);
      const full = abbreviate(HALIFAX_LONGEST_HEADSIGN[1].slice(4), halifax);
      expect(name.startsWith('SPRI'), `${profile.id}: ${name}`).toBe(true);
      expect(painter.width(name, layout.fonts)).toBeLessThanOrEqual(
        layout.rows[0]!.destination.width,
      );
      // Cut inside a word only when not even the first word fits (the 128 px sign's narrow column).
      const firstWordFits = painter.fits(
        `SPRINGFIELD${ELLIPSIS}`,
        layout.rows[0]!.destination.width,
        layout.fonts,
      );
      if (name !== full && firstWordFits)
        expect(endsAtWord(name, full), `${profile.id}: ${name}`).toBe(true);
      if (!firstWordFits) expect(name.endsWith(ELLIPSIS)).toBe(true);
      const stop = fitStopName(view, layout, painter, halifax).stopName!.en;
      expect(painter.width(stop, layout.fonts)).toBeLessThanOrEqual(layout.status.label.width);
    }
  });

  it('draws "138 PARKLAND" on route 138 exactly as "PARKLAND"', () => {
    const led = profiles.get('led-192x64-tricolour')!;
    const view = (headsign: string) =>
      ({
        width: 192,
        height: 64,
        language: 'en',
        now: NOW,
        timezone: 'UTC',
        mode: 'live',
        rows: [row('138', headsign, 5)],
      }) as BoardView;
    expect(
      framesEqual(renderBoard(view('138 PARKLAND'), led), renderBoard(view('PARKLAND'), led)),
    ).toBe(true);
  });
});

describe('more departures than rows', () => {
  const rows = [
    row('1', 'Spring Garden', 1),
    row('7', 'Robie', 2),
    row('1', 'Spring Garden', 9),
    row('9A', 'Greystone', 11),
    row('1', 'Spring Garden', 17),
    row('7', 'Robie', 19),
    row('10', 'Westphal', 24),
  ];

  it('pages through them on the wall clock, every sign at the stop together', () => {
    const at = (seconds: number) => pageOfRows(rows, 3, 'page', seconds * 1000, 5);
    expect(at(0)).toMatchObject({ page: 0, pages: 3 });
    expect(at(5).rows.map((r) => r.time)).toEqual(rows.slice(3, 6).map((r) => r.time));
    expect(at(10).rows).toHaveLength(1);
    expect(at(15).page).toBe(0);
  });

  it('or groups by route: each route once, with its next times', () => {
    const grouped = groupByRoute(rows);
    expect(grouped.map((r) => [r.route, r.later?.map((l) => l.time)])).toEqual([
      ['1', [NOW + 9 * 60]],
      ['7', [NOW + 19 * 60]],
      ['9A', []],
      ['10', []],
    ]);
    expect(pageOfRows(rows, 3, 'group-by-route', 0, 5)).toMatchObject({ pages: 2 });
  });
});

const FEED = path.join(ROOT, '..', 'shared', 'data', 'gtfs', 'halifax-2025.zip');
describe.skipIf(!fs.existsSync(FEED))('the Halifax feed', () => {
  it('has no longer stop name or headsign than the ones the golden frames use', () => {
    const files = unzipSync(fs.readFileSync(FEED), {
      filter: (f) => ['stops.txt', 'trips.txt'].includes(f.name),
    });
    const table = (name: string) =>
      parse<Record<string, string>>(strFromU8(files[name]!), {
        columns: true,
        bom: true,
        skip_empty_lines: true,
      });
    const longest = (values: string[]) => Math.max(...values.map((v) => v.length));
    expect(longest(table('stops.txt').map((s) => s.stop_name ?? ''))).toBe(
      HALIFAX_LONGEST_STOP.length,
    );
    expect(longest(table('trips.txt').map((t) => t.trip_headsign ?? ''))).toBe(
      HALIFAX_LONGEST_HEADSIGN[1].length,
    );
  });
});
if (!fs.existsSync(FEED)) console.warn(`Halifax feed checks skipped: ${FEED} not found`);
