import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAllPanelProfiles } from '../panels/catalog';
import { GlyphCoverage, replaceMissing } from '../panels/glyphCoverage';
import type { BoardView } from '../device/render/boardView';
import { framesEqual } from '../device/render/frame';
import { renderBoard } from '../device/render/renderBoard';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { startTestManager, type RunningManager } from './helpers/system';

const profiles = loadAllPanelProfiles(path.join(import.meta.dirname, '..', 'panels', 'profiles'));
const led = profiles.get('led-192x64-tricolour')!;
const paper = profiles.get('eink-800x480-bw')!;
const coverage = new GlyphCoverage();
/** 𨋢 (lift, Hong Kong usage) is outside the LED bitmap face; 🚧 is in no face at all. */
const LIFT = '𨋢';

describe('glyph coverage', () => {
  it('names the characters each panel cannot draw', () => {
    const text = `Lift ${LIFT} out of service 🚧 电梯 ¥ € ✈`;
    expect(coverage.missing(text, led)).toEqual([LIFT, '🚧']);
    expect(coverage.missing(text, paper)).toEqual(['🚧']);
    expect(coverage.gaps(['plain words 中文'], [...profiles.values()])).toEqual([]);
  });

  it('replaces instead of drawing a box: pictographs dropped, anything else a question mark', () => {
    const canDraw = (g: string) => coverage.drawable(g, led.fonts['16']!);
    expect(replaceMissing(`${LIFT}口 closed 🚧 today`, canDraw)).toBe('?口 closed today');
    expect(replaceMissing('all drawable 中文', canDraw)).toBe('all drawable 中文');
  });

  it('shows the replacement on the glass, never the missing glyph', () => {
    const NOW = Date.UTC(2024, 5, 3, 6, 3, 20) / 1000;
    const view = (headsign: string): BoardView => ({
      width: 192,
      height: 64,
      language: 'zh',
      now: NOW,
      timezone: 'Asia/Hong_Kong',
      mode: 'scheduled',
      rows: [
        {
          route: '5X',
          headsign: { en: headsign, zh: headsign },
          time: NOW + 600,
          source: 'scheduled',
        },
      ],
    });
    expect(
      framesEqual(renderBoard(view(`${LIFT}口站 🚧`), led), renderBoard(view('?口站'), led)),
    ).toBe(true);
    expect(framesEqual(renderBoard(view(`${LIFT}口站`), led), renderBoard(view('口站'), led))).toBe(
      false,
    );
  });
});

describe('manager: panel profiles and glyph warnings', () => {
  let dir: string;
  let manager: RunningManager;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-glyphs-'));
    manager = await startTestManager(dir);
  });

  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records each sign profile and refuses one it does not know', async () => {
    const led1 = await manager.api.post('/api/signs', { deviceId: 'led-1', stopId: STOP_CENTRAL });
    expect(await led1.json()).toMatchObject({ panelProfile: 'led-192x64-tricolour' });
    const paper1 = await manager.api.post('/api/signs', {
      deviceId: 'paper-1',
      stopId: STOP_CENTRAL,
      panelProfile: 'eink-800x480-bw',
    });
    expect(await paper1.json()).toMatchObject({ panelProfile: 'eink-800x480-bw' });
    const moved = await manager.api.post('/api/signs', {
      deviceId: 'paper-1',
      stopId: STOP_CENTRAL,
    });
    expect(await moved.json()).toMatchObject({ panelProfile: 'eink-800x480-bw' });
    const unknown = await manager.api.post('/api/signs', {
      deviceId: 'plasma-1',
      stopId: STOP_CENTRAL,
      panelProfile: 'plasma-1024x768',
    });
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toContain('known: eink-1600x1200-grey16');
    // Signs made by the batch get theirs too; an unknown one refuses the whole batch.
    const batch = await manager.api.post('/api/signs/batch', {
      signs: [
        { deviceId: 'paper-2', stopId: STOP_CENTRAL, panelProfile: 'eink-296x128-bwr' },
        { deviceId: 'led-2', stopId: STOP_CENTRAL },
      ],
    });
    expect(batch.status).toBe(201);
    const refused = await manager.api.post('/api/signs/batch', {
      signs: [
        { deviceId: 'led-3', stopId: STOP_CENTRAL },
        { deviceId: 'plasma-2', stopId: STOP_CENTRAL, panelProfile: 'plasma-1024x768' },
      ],
    });
    expect(refused.status).toBe(422);
    const signs = (await (await manager.api.get('/api/signs')).json()) as {
      deviceId: string;
      panelProfile: string;
    }[];
    const profiles = Object.fromEntries(signs.map((s) => [s.deviceId, s.panelProfile]));
    expect(profiles).toEqual({
      'led-1': 'led-192x64-tricolour',
      'paper-1': 'eink-800x480-bw',
      'paper-2': 'eink-296x128-bwr',
      'led-2': 'led-192x64-tricolour',
    });
  });

  it('warns, per profile, about characters a targeted sign cannot draw', async () => {
    const res = await manager.api.post('/api/announcements', {
      target: { stopId: STOP_CENTRAL },
      text: { en: 'Lift closed 🚧', zh: `${LIFT}暂停服务` },
      priority: 'info',
      tts: { en: 'The lift is closed' },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { warnings: unknown[]; tts: unknown };
    expect(body.tts).toEqual({ en: 'The lift is closed' });
    expect(body.warnings).toEqual([
      expect.objectContaining({ profile: 'led-192x64-tricolour', characters: ['🚧', LIFT] }),
      expect.objectContaining({ profile: 'eink-800x480-bw', characters: ['🚧'] }),
      expect.objectContaining({ profile: 'eink-296x128-bwr', characters: ['🚧', LIFT] }),
    ]);
    const clean = await manager.api.post('/api/announcements', {
      target: { stopId: STOP_CENTRAL },
      text: { en: 'Lift closed', zh: '电梯暂停服务' },
    });
    expect(await clean.json()).not.toHaveProperty('warnings');
  });
});
