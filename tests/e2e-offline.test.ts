/**
 * The manager and the sign talk through an external Mosquitto broker. When the
 * broker dies the sign keeps showing departures from its SQLite cache, marked as
 * scheduled; when the broker returns, both reconnect and the sign goes live again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BoardView } from '../device/render/boardView';
import { cropFrame, framesEqual } from '../device/render/frame';
import { layoutFor } from '../device/render/layout';
import { renderBoard } from '../device/render/renderBoard';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { isPageOf, waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, TINY_TIMEZONE, tinyGtfsZip } from './helpers/gtfsFixture';
import { Mosquitto, startSystem, type RunningSign, type RunningSystem } from './helpers/system';

const DEVICE = 'offline-sign-1';

describe('sign without its broker', () => {
  let dir: string;
  let broker: Mosquitto;
  let system: RunningSystem;
  let sign: RunningSign;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-offline-'));
    broker = await Mosquitto.start(dir);
    system = await startSystem({
      deviceId: DEVICE,
      stopId: STOP_CENTRAL,
      mosquitto: broker,
      dir,
      // Heartbeats every second keep an unchanged board live; a silent manager is noticed in 5 s.
      manager: { realtimePollSeconds: 1 },
      sign: { staleAfterSeconds: 5, predictionStaleSeconds: 5 },
    });
    sign = system.sign;
    await waitFor('live mode', () => sign.sign.state().mode === 'live', 15_000);
  });

  afterAll(async () => {
    await system?.stop();
    await broker?.kill();
  });

  it('falls back to scheduled departures from its cache and says so on the glass', async () => {
    await broker.kill();
    await waitFor('scheduled mode', () => sign.sign.state().mode === 'scheduled', 10_000);

    const view = sign.sign.state().view;
    if (!view) throw new Error('no view');
    expect(view.rows.length).toBe(3);
    expect(view.rows.every((r) => r.source !== 'live')).toBe(true);

    // The rows are the timetable's next departures, as the manager's own schedule query gives them.
    const db = new Database(':memory:');
    const store = new GtfsStore(db);
    store.init();
    await store.importZip(tinyGtfsZip(), 'fixture');
    const expected = store.departures(STOP_CENTRAL, view.now, view.now + 3 * 3600, 9);
    db.close();
    // More departures than rows: the board shows one page of them.
    const shown = view.rows.map((r) => [r.route, r.time]);
    expect(
      isPageOf(
        shown,
        expected.map((d) => [d.route, d.time]),
        3,
      ),
      JSON.stringify(shown),
    ).toBe(true);

    // The status line carries the scheduled marker, as drawn for a scheduled board.
    const label = layoutFor(view.width, view.height).status.label;
    const reference: BoardView = {
      width: view.width,
      height: view.height,
      language: view.language,
      now: view.now,
      timezone: TINY_TIMEZONE,
      mode: 'scheduled',
      rows: [],
    };
    const marker = cropFrame(renderBoard(reference), label);
    const simulator = sign.rig.simulator;
    if (!simulator) throw new Error('rig has no simulator');
    await simulator.waitFor((frame) => {
      const shown = cropFrame(frame, label);
      return (
        framesEqual(shown, marker) ||
        framesEqual(
          shown,
          cropFrame(
            renderBoard({ ...reference, language: reference.language === 'zh' ? 'en' : 'zh' }),
            label,
          ),
        )
      );
    }, 10_000);
  });

  it('returns to live when the broker comes back', async () => {
    await broker.restart();
    await waitFor('live again', () => sign.sign.state().mode === 'live', 20_000);
    expect(sign.sign.state().connected).toBe(true);
  });

  it('shows the timetable while the manager is down though the broker is up', async () => {
    await system.manager.stop();
    await waitFor('scheduled mode', () => sign.sign.state().mode === 'scheduled', 10_000);
    expect(sign.sign.state().connected).toBe(true);
    expect(sign.sign.state().managerOnline).toBe(false);
  });
});
