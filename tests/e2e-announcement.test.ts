/**
 * End to end: manager with its embedded broker, a sign on real SQLite and MQTT,
 * its panel simulated on a socat pty. An announcement posted over HTTP must
 * reach the glass, pixel for pixel as the renderer draws that text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardView } from '../device/render/boardView';
import { cropFrame, framesEqual, type IndexedFrame } from '../device/render/frame';
import { layoutFor } from '../device/render/layout';
import { pngToFrame } from '../device/render/png';
import { renderBoard } from '../device/render/renderBoard';
import type { LocalizedText } from '../shared';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, TINY_TIMEZONE } from './helpers/gtfsFixture';
import {
  startSystem,
  type RunningManager,
  type RunningSign,
  type RunningSystem,
} from './helpers/system';

const DEVICE = 'e2e-sign-1';
const WIDTH = 192;
const HEIGHT = 64;
const ANNOUNCEMENT = { en: 'Lift out of service', zh: '电梯暂停服务' };

/** The status line shows the text on a Chinese or an English page, drawn from the text alone. */
function showsAnnouncement(frame: IndexedFrame, text: LocalizedText): boolean {
  const status = layoutFor(WIDTH, HEIGHT).status.line;
  const line = cropFrame(frame, status);
  return (['zh', 'en'] as const).some((language) => {
    const view: BoardView = {
      width: WIDTH,
      height: HEIGHT,
      language,
      now: Math.floor(Date.now() / 1000),
      timezone: TINY_TIMEZONE,
      mode: 'live',
      rows: [],
      announcement: { text, priority: 'info' },
    };
    return framesEqual(line, cropFrame(renderBoard(view), status));
  });
}

describe('announcement end to end', () => {
  let system: RunningSystem;
  let manager: RunningManager;
  let sign: RunningSign;

  beforeAll(async () => {
    // Routine frame uploads are an hour apart: what reaches the console below came because it mattered.
    system = await startSystem({
      deviceId: DEVICE,
      stopId: STOP_CENTRAL,
      sign: { frameUploadIntervalSeconds: 3600 },
    });
    ({ manager, sign } = system);
  });

  afterAll(() => system?.stop());

  it('goes live with the stop schedule and reports itself online', async () => {
    await waitFor('live mode', () => sign.sign.state().mode === 'live', 15_000);
    const view = sign.sign.state().view;
    expect(view?.rows.length).toBeGreaterThan(0);
    expect(view?.timezone).toBe(TINY_TIMEZONE);
    await waitFor(
      'sign listed online',
      async () => {
        const signs = (await manager.api.json<unknown>(`/api/signs`)) as Array<{
          deviceId: string;
          online: boolean;
          mode: string;
        }>;
        const me = signs.find((s) => s.deviceId === DEVICE);
        return me?.online === true && me.mode === 'live';
      },
      10_000,
    );
  });

  it('shows a posted announcement on the glass', async () => {
    const text = ANNOUNCEMENT;
    const res = await manager.api.post(`/api/announcements`, {
      target: { stopId: STOP_CENTRAL },
      text,
      priority: 'info',
      durationSeconds: 600,
    });
    expect(res.status).toBe(201);

    const simulator = sign.rig.simulator;
    if (!simulator) throw new Error('rig has no simulator');
    const glass = await simulator.waitFor((frame) => showsAnnouncement(frame, text), 10_000);
    // Departures stay visible above the announcement line.
    const rowsLit = cropFrame(glass, layoutFor(WIDTH, HEIGHT).rowsArea).pixels.some((p) => p !== 0);
    expect(rowsLit).toBe(true);
  });

  it('uploads the changed frame at once, so the console shows the announcement', async () => {
    await waitFor(
      'the announcement in the uploaded frame',
      async () => {
        const res = await manager.api.get(`/api/signs/${DEVICE}/frame.png`);
        if (res.status !== 200) return false;
        const frame = await pngToFrame(Buffer.from(await res.arrayBuffer()));
        return frame !== null && showsAnnouncement(frame, ANNOUNCEMENT);
      },
      10_000,
    );
  });

  it('withdrawing the announcement clears it from the glass', async () => {
    const active = (await manager.api.json<unknown>(`/api/announcements`)) as Array<{
      announcementId: string;
    }>;
    expect(active).toHaveLength(1);
    const res = await manager.api.delete(`/api/announcements/${active[0]?.announcementId}`);
    expect(res.status).toBe(200);
    await waitFor(
      'announcement gone',
      () => sign.sign.state().view?.announcement === undefined,
      10_000,
    );
  });

  it('withdrawing an emergency leaves the next announcement at the stop showing', async () => {
    const post = async (en: string, priority: string) => {
      const res = await manager.api.post(`/api/announcements`, {
        target: { stopId: STOP_CENTRAL },
        text: { en },
        priority,
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { announcementId: string }).announcementId;
    };
    const shown = () => sign.sign.state().view?.announcement?.text.en;
    const info = await post('Buy tickets before boarding', 'info');
    await waitFor('info shown', () => shown() === 'Buy tickets before boarding', 10_000);
    const emergency = await post('Evacuate the stop', 'emergency');
    await waitFor('emergency shown', () => shown() === 'Evacuate the stop', 10_000);

    await manager.api.delete(`/api/announcements/${emergency}`);
    await waitFor('info shown again', () => shown() === 'Buy tickets before boarding', 10_000);
    await manager.api.delete(`/api/announcements/${info}`);
    await waitFor('nothing shown', () => shown() === undefined, 10_000);
  });

  it('shows a city-wide emergency over the stop notice and the stop notice again once it is withdrawn', async () => {
    const post = async (target: unknown, en: string, priority: string) => {
      const res = await manager.api.post(`/api/announcements`, { target, text: { en }, priority });
      expect(res.status).toBe(201);
      return ((await res.json()) as { announcementId: string }).announcementId;
    };
    const shown = () => sign.sign.state().view?.announcement?.text.en;
    const notice = await post({ stopId: STOP_CENTRAL }, 'Platform 2 closed', 'warning');
    await waitFor('the stop notice', () => shown() === 'Platform 2 closed', 10_000);
    const city = await post({ city: true }, 'Typhoon signal 8: all service ends', 'emergency');
    await waitFor(
      'the city emergency',
      () => shown() === 'Typhoon signal 8: all service ends',
      10_000,
    );

    await manager.api.delete(`/api/announcements/${city}`);
    await waitFor('the stop notice again', () => shown() === 'Platform 2 closed', 10_000);
    await manager.api.delete(`/api/announcements/${notice}`);
    await waitFor('nothing shown', () => shown() === undefined, 10_000);
  });
});
