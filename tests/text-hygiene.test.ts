/**
 * Passenger text with bidi controls, NUL or other control characters is
 * refused by the HTTP API and by the codec in both directions, with the same
 * reason from the same shared function; a feed carrying them is imported with
 * the characters removed and a warning.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, PROTOCOL_VERSION, textProblem, topics } from '../shared';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { decodeFeed } from '../manager/realtime/feedDecoder';
import { STOP_CENTRAL, tinyGtfsFiles, zipGtfs } from './helpers/gtfsFixture';
import { encodeFeed } from './helpers/realtimeFeeds';
import { startTestManager, type RunningManager } from './helpers/system';

/** "Exit" as approved, but a right-to-left override makes the glass read it backwards. */
const REVERSED = 'Lift at \u202Etixe\u202C north';
const cases: [string, string, RegExp][] = [
  ['a right-to-left override', REVERSED, /^bidirectional control U\+202E at position 8 /],
  ['a NUL', 'Platform\u00002', /^control character U\+0000 at position 8 /],
  ['a left-to-right isolate', 'Bay \u20665\u2069', /^bidirectional control U\+2066 /],
  ['a line break', 'two\nlines', /^control character U\+000A /],
  ['a C1 control', 'odd\u0085text', /^control character U\+0085 /],
];

describe('one rule for sign text', () => {
  it.each(cases)('%s is named with its position', (_label, text, reason) => {
    expect(textProblem(text)).toMatch(reason);
  });

  it('leaves plain Chinese and English alone', () => {
    expect(textProblem('電梯暫停服務 Lift out of service — 5X «Airport»')).toBeUndefined();
  });

  it.each(cases)('the codec refuses %s both ways', (_label, text) => {
    const data = {
      announcementId: 'a1',
      text: { en: text },
      priority: 'info',
      expiresAt: 2e9,
    } as const;
    expect(() => encodeMessage('stopAnnouncement', data)).toThrow(textProblem(text));
    const forged = JSON.stringify({ v: PROTOCOL_VERSION, id: 'x', sentAt: 1, data });
    const decoded = decodeMessage('stopAnnouncement', forged);
    expect(decoded).toMatchObject({ ok: false, reason: 'invalid' });
    expect(!decoded.ok && decoded.detail).toContain(textProblem(text));
  });
});

describe('the HTTP API', () => {
  let dir: string;
  let manager: RunningManager;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-text-'));
    manager = await startTestManager(dir);
    await manager.api.post('/api/signs', { deviceId: 'k1', stopId: STOP_CENTRAL });
  });
  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(cases)("refuses an announcement with %s, giving the codec's reason", async (_l, text) => {
    const res = await manager.api.post('/api/announcements', {
      target: { stopId: STOP_CENTRAL },
      text: { en: 'Notice', zh: text },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { detail: string };
    expect(body.detail).toContain(textProblem(text));
    const listed = await manager.api.json('/api/announcements');
    expect(listed).toEqual([]);
  });
});

describe('a feed with control characters', () => {
  it('imports with them removed and a warning for each field', async () => {
    const files = tinyGtfsFiles();
    files['stops.txt'] = (files['stops.txt'] ?? '').replace(
      'Central Station',
      'Central\u202E Station\u0007',
    );
    const db = new Database(':memory:');
    const store = new GtfsStore(db);
    store.init();
    const summary = await store.importZip(zipGtfs(files), 'dirty');
    expect(store.stop(STOP_CENTRAL)?.name.en).toBe('Central Station');
    expect(summary.warnings).toEqual([
      expect.stringMatching(/^stops\.txt line \d+: 2 control or bidi character\(s\) removed$/),
    ]);
    // What the import stored passes the codec: the stop's schedule can be sent.
    const name = store.stop(STOP_CENTRAL)?.name ?? { en: '' };
    expect(() =>
      encodeMessage('deviceConfig', {
        deviceId: 'k1',
        stopId: STOP_CENTRAL,
        stopName: name,
        timezone: 'Asia/Hong_Kong',
      }),
    ).not.toThrow();
    expect(topics.stopSchedule(STOP_CENTRAL)).toContain(STOP_CENTRAL);
    db.close();
  });
});

describe('a realtime feed with control characters', () => {
  it('decodes with them removed, line breaks as spaces, and what it gives the signs passes the codec', () => {
    const bytes = encodeFeed({
      header: { gtfsRealtimeVersion: '2.0', timestamp: 1_762_462_800 },
      entity: [
        {
          id: 'a1',
          alert: {
            informedEntity: [{ stopId: STOP_CENTRAL }],
            headerText: { translation: [{ text: 'Detour\u202E on Route 5', language: 'en' }] },
            descriptionText: {
              translation: [
                { text: 'Buses use Queen St.\r\nStop moved\u0000 50 m.', language: 'en' },
              ],
            },
          },
        },
      ],
    });
    const decoded = decodeFeed(bytes);
    if (!decoded.ok) throw new Error(decoded.reason);
    const alert = decoded.feed.alerts[0]!;
    expect(alert.header[0]?.text).toBe('Detour on Route 5');
    expect(alert.description[0]?.text).toBe('Buses use Queen St. Stop moved 50 m.');
    expect(decoded.feed.textCharactersRemoved).toBe(4);
    expect(() =>
      encodeMessage('stopAlerts', {
        stopId: STOP_CENTRAL,
        generatedAt: 1_762_462_800,
        alerts: [
          {
            alertId: 'a1',
            source: 'agency',
            header: { en: alert.header[0]!.text },
            description: { en: alert.description[0]!.text },
            routes: [],
          },
        ],
      }),
    ).not.toThrow();
    // The codec holds agency text to the same rule as the operator's.
    expect(() =>
      encodeMessage('stopAlerts', {
        stopId: STOP_CENTRAL,
        generatedAt: 1_762_462_800,
        alerts: [
          {
            alertId: 'a1',
            source: 'agency',
            header: { en: 'Detour' },
            description: { en: 'Line\u2067 two' },
            routes: [],
          },
        ],
      }),
    ).toThrow(/U\+2067/);
  });
});
