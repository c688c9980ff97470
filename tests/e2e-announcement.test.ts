/**
 * End to end: manager with its embedded broker, a sign on real SQLite and MQTT,
 * its panel simulated on a socat pty. An announcement posted over HTTP must
 * reach the glass, pixel for pixel as the renderer draws that text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardView } from '../device/render/boardView';
import { cropFrame, framesEqual, type IndexedFrame } from '../device/render/frame';
import { layoutFor } from '../device/render/layout';
import { renderBoard } from '../device/render/renderBoard';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, TINY_TIMEZONE } from './helpers/gtfsFixture';
import {
  postJson,
  startSystem,
  type RunningManager,
  type RunningSign,
  type RunningSystem,
} from './helpers/system';

const DEVICE = 'e2e-sign-1';
const WIDTH = 192;
const HEIGHT = 64;

describe('announcement end to end', () => {
  let system: RunningSystem;
  let manager: RunningManager;
  let sign: RunningSign;

  beforeAll(async () => {
    system = await startSystem({ deviceId: DEVICE, stopId: STOP_CENTRAL });
    ({ manager, sign } = system);
  });

  afterAll(() => system?.stop());

  it('goes live with the stop schedule and reports itself online', async () => {
    await waitFor('live mode', () => sign.sign.state().mode === 'live', 15_000);
    const view = sign.sign.state().view;
    expect(view?.rows.length).toBeGreaterThan(0);
    expect(view?.timezone).toBe(TINY_TIMEZONE);
    await waitForAsync('sign listed online', async () => {
      const signs = (await (await fetch(`${manager.httpUrl}/api/signs`)).json()) as Array<{
        deviceId: string;
        online: boolean;
        mode: string;
      }>;
      const me = signs.find((s) => s.deviceId === DEVICE);
      return me?.online === true && me.mode === 'live';
    });
  });

  it('shows a posted announcement on the glass', async () => {
    const text = { en: 'Lift out of service', zh: '电梯暂停服务' };
    const res = await postJson(`${manager.httpUrl}/api/announcements`, {
      target: { stopId: STOP_CENTRAL },
      text,
      priority: 'info',
      durationSeconds: 600,
    });
    expect(res.status).toBe(201);

    const status = layoutFor(WIDTH, HEIGHT).status.line;
    // The reference is drawn from the text alone, independent of what the sign decided.
    const reference = (language: 'zh' | 'en'): IndexedFrame => {
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
      return cropFrame(renderBoard(view), status);
    };
    const simulator = sign.rig.simulator;
    if (!simulator) throw new Error('rig has no simulator');
    const glass = await simulator.waitFor((frame) => {
      const line = cropFrame(frame, status);
      return framesEqual(line, reference('zh')) || framesEqual(line, reference('en'));
    }, 10_000);
    // Departures stay visible above the announcement line.
    const rowsLit = cropFrame(glass, layoutFor(WIDTH, HEIGHT).rowsArea).pixels.some((p) => p !== 0);
    expect(rowsLit).toBe(true);
  });

  it('serves the last frame the sign uploaded as a PNG', async () => {
    await waitForAsync('frame upload', async () => {
      const res = await fetch(`${manager.httpUrl}/api/signs/${DEVICE}/frame.png`);
      if (res.status !== 200) return false;
      const body = Buffer.from(await res.arrayBuffer());
      return body.subarray(1, 4).toString() === 'PNG';
    });
  });

  it('withdrawing the announcement clears it from the glass', async () => {
    const active = (await (await fetch(`${manager.httpUrl}/api/announcements`)).json()) as Array<{
      announcementId: string;
    }>;
    expect(active).toHaveLength(1);
    const res = await fetch(`${manager.httpUrl}/api/announcements/${active[0]?.announcementId}`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(200);
    await waitFor(
      'announcement gone',
      () => sign.sign.state().view?.announcement === undefined,
      10_000,
    );
  });
});

async function waitForAsync(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
