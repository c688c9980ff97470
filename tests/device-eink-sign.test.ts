import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPanelProfile } from '../panels/catalog';
import { EinkPanel } from '../device/eink/einkPanel';
import { isEinkProfile, simulatedEink } from '../device/eink/einkFromProfile';
import { renderBoard } from '../device/render/renderBoard';
import { startBroker } from './helpers/deviceBroker';
import { buildSign, tempDir, TestManager, waitFor } from './helpers/deviceFixtures';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a sign on e-paper', () => {
  it('refreshes the paper once for a board, and not again while only seconds pass', async () => {
    const shipped = loadPanelProfile(
      'eink-800x480-bw',
      path.join(import.meta.dirname, '..', 'panels', 'profiles'),
    );
    if (!isEinkProfile(shipped)) throw new Error('not e-paper');
    // A panel rated for one refresh a second, so the test need not wait out 30 s.
    const profile = { ...shipped, refresh: { ...shipped.refresh, minIntervalSeconds: 1 } };
    const broker = await startBroker();
    cleanups.push(() => broker.close());
    const temp = tempDir();
    cleanups.push(() => temp.remove());
    const manager = await TestManager.connect(broker.url);
    cleanups.push(() => manager.close());
    await manager.publishAll();

    const eink = simulatedEink(profile, Date.now);
    const panel = new EinkPanel({
      controller: eink.controller,
      policy: profile.refresh,
      width: profile.width,
      height: profile.height,
      clock: Date.now,
    });
    const subject = buildSign({
      brokerUrl: broker.url,
      dataDir: temp.dir,
      panel,
      render: (view) => renderBoard(view, profile),
      config: { panelProfile: profile.id },
    });
    await subject.sign.start();
    cleanups.push(() => subject.sign.stop());
    await waitFor(
      'live board on paper',
      () =>
        subject.sign.state().mode === 'live' &&
        subject.sign.state().lastFrame !== null &&
        !panel.waiting &&
        eink.simulator.refreshes.full > 0,
      10_000,
    );
    await panel.settled();
    const commands = eink.simulator.commands.length;
    const refreshes = eink.simulator.refreshes;
    const minute = Math.floor(Date.now() / 60_000);
    // Three seconds of ticks: the sign renders at the minute, so frame and paper stay put.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    if (Math.floor(Date.now() / 60_000) === minute) {
      expect(eink.simulator.refreshes).toEqual(refreshes);
      expect(eink.simulator.commands.length).toBe(commands);
    }
    expect((subject.sign.state().view?.now ?? 1) % 60).toBe(0);
    expect(eink.simulator.violations).toEqual([]);
    expect(panel.stats().ok).toBe(true);
  });
});
