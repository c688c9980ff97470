import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPanelProfile } from '../panels/catalog';
import { EinkPanel } from '../device/eink/einkPanel';
import { EinkRuleViolation } from '../device/eink/einkRules';
import { isEinkProfile, simulatedEink, type EinkProfile } from '../device/eink/einkFromProfile';
import { It8951Mode } from '../device/eink/it8951';
import type { It8951Simulator } from '../device/eink/it8951Simulator';
import { Uc8179Command } from '../device/eink/uc8179';
import type { Uc8179Simulator } from '../device/eink/uc8179Simulator';
import { createFrame, framesEqual, type IndexedFrame } from '../device/render/frame';
import { ManualTime } from './helpers/manualTime';

const PROFILES = path.join(import.meta.dirname, '..', 'panels', 'profiles');
const START = Date.UTC(2025, 0, 6, 8, 0, 0);

function einkProfile(id: string): EinkProfile {
  const profile = loadPanelProfile(id, PROFILES);
  if (!isEinkProfile(profile)) throw new Error(`${id} is not e-paper`);
  return profile;
}

/** A frame with a box of `index` at (x, y): a clock digit or a countdown changing. */
function frameWith(
  profile: EinkProfile,
  boxes: [x: number, y: number, w: number, h: number, index: number][],
): IndexedFrame {
  const frame = createFrame(profile.width, profile.height);
  for (const [x, y, w, h, index] of boxes) {
    for (let row = y; row < y + h; row++)
      frame.pixels.fill(index, row * frame.width + x, row * frame.width + x + w);
  }
  return frame;
}

function rig(id: string, temperatureC = 20) {
  const profile = einkProfile(id);
  const time = new ManualTime(START);
  const eink = simulatedEink(profile, time.clock, temperatureC);
  const panel = new EinkPanel({
    controller: eink.controller,
    policy: profile.refresh,
    width: profile.width,
    height: profile.height,
    clock: time.clock,
    timers: time,
  });
  /** Moves time on and lets any refresh that fell due finish. */
  const pass = async (ms: number) => {
    time.advance(ms);
    await panel.settled();
  };
  return { profile, time, panel, pass, ...eink };
}

describe('UC8179 e-paper (7.5" 800x480 black/white)', () => {
  it('refreshes whole first, then only the changed rectangle, sleeping after each', async () => {
    const { profile, panel, pass, simulator } = rig('eink-800x480-bw');
    const sim = simulator as Uc8179Simulator;
    await panel.start();
    const board = frameWith(profile, [[20, 20, 300, 40, 1]]);
    await panel.show(board);
    await pass(0);
    expect(sim.refreshes).toEqual({ full: 1, partial: 0 });
    expect(framesEqual(sim.paper, board)).toBe(true);
    expect({ stats: panel.stats().lastError, v: sim.violations }).toEqual({
      stats: undefined,
      v: [],
    });
    expect(sim.rules.awakeAfterRefresh).toBe(false);

    // The same frame again sends nothing at all.
    const commandsBefore = sim.commands.length;
    await panel.show(board);
    await pass(60_000);
    expect(sim.commands.length).toBe(commandsBefore);

    const nextMinute = frameWith(profile, [
      [20, 20, 300, 40, 1],
      [700, 440, 60, 24, 1],
    ]);
    await panel.show(nextMinute);
    await pass(0);
    expect(sim.refreshes).toEqual({ full: 1, partial: 1 });
    expect(sim.commands).toContain(Uc8179Command.partialIn);
    expect(framesEqual(sim.paper, nextMinute)).toBe(true);
    expect(panel.stats().framesSkipped).toBe(1);
    expect(sim.violations).toEqual([]);
    await panel.stop();
  });

  it('waits out the rated interval, and the newest frame wins', async () => {
    const { profile, panel, pass, simulator } = rig('eink-800x480-bw');
    await panel.start();
    await panel.show(frameWith(profile, [[0, 0, 8, 8, 1]]));
    await pass(0);
    await pass(5_000);
    await panel.show(frameWith(profile, [[0, 0, 16, 8, 1]]));
    await pass(5_000);
    const newest = frameWith(profile, [[0, 0, 24, 8, 1]]);
    await panel.show(newest);
    await pass(10_000); // 20 s after the first refresh: still too soon for a 30 s panel
    expect(simulator.refreshes.partial).toBe(0);
    await pass(10_000);
    expect(simulator.refreshes).toEqual({ full: 1, partial: 1 });
    expect(framesEqual(simulator.paper, newest)).toBe(true);
    expect(panel.stats().framesCoalesced).toBe(1);
    expect(simulator.violations).toEqual([]);
    await panel.stop();
  });

  it('goes back to a full refresh after N partials and after a day', async () => {
    const { profile, panel, pass, simulator } = rig('eink-800x480-bw');
    const n = profile.refresh.partialsBeforeFull;
    await panel.start();
    for (let i = 0; i <= n + 1; i++) {
      await panel.show(frameWith(profile, [[0, 0, 8 * (i + 1), 8, 1]]));
      await pass(60_000);
    }
    expect(simulator.refreshes).toEqual({ full: 2, partial: n });
    // A quiet day: the next change is a full refresh, whatever the partial count.
    await pass(25 * 3_600_000);
    await panel.show(frameWith(profile, [[400, 400, 8, 8, 1]]));
    await pass(0);
    expect(simulator.refreshes.full).toBe(3);
    expect(simulator.violations).toEqual([]);
    await panel.stop();
  });

  it('holds the picture outside the rated temperature and refreshes once it is warm again', async () => {
    const { profile, panel, pass, simulator } = rig('eink-800x480-bw', -8);
    await panel.start();
    await panel.show(frameWith(profile, [[0, 0, 80, 80, 1]]));
    await pass(0);
    expect(simulator.refreshes).toEqual({ full: 0, partial: 0 });
    expect(panel.stats()).toMatchObject({ ok: false, temperatureC: -8 });
    expect(panel.stats().lastError).toContain('-8 °C');
    simulator.temperatureC = 12;
    await pass(60_000);
    expect(simulator.refreshes.full).toBe(1);
    expect(panel.stats().ok).toBe(true);
    expect(simulator.violations).toEqual([]);
    await panel.stop();
  });
});

describe('UC8179-class black/white/red e-paper (2.9" 296x128)', () => {
  it('shows red and black, always as a full refresh, at most every 3 minutes', async () => {
    const { profile, panel, pass, simulator } = rig('eink-296x128-bwr');
    await panel.start();
    const first = frameWith(profile, [
      [0, 0, 100, 16, 1],
      [0, 112, 296, 16, 2],
    ]);
    await panel.show(first);
    await pass(0);
    expect(framesEqual(simulator.paper, first)).toBe(true);
    await panel.show(
      frameWith(profile, [
        [0, 0, 100, 16, 1],
        [200, 20, 16, 16, 1],
      ]),
    );
    await pass(60_000);
    expect(simulator.refreshes).toEqual({ full: 1, partial: 0 });
    await pass(120_000);
    expect(simulator.refreshes).toEqual({ full: 2, partial: 0 });
    expect(simulator.violations).toEqual([]);
    await panel.stop();
  });
});

describe('IT8951 e-paper (13.3" 1600x1200, 16 greys)', () => {
  it('loads the image, refreshes GC16 first, then DU for black and white and GL16 for greys', async () => {
    const { profile, panel, pass, simulator } = rig('eink-1600x1200-grey16');
    const sim = simulator as It8951Simulator;
    await panel.start();
    const first = frameWith(profile, [
      [0, 0, 1600, 64, 15],
      [100, 200, 500, 60, 7],
    ]);
    await panel.show(first);
    await pass(0);
    const blackOnly = frameWith(profile, [
      [0, 0, 1600, 64, 15],
      [100, 200, 500, 60, 7],
      [1400, 1140, 120, 40, 15],
    ]);
    await panel.show(blackOnly);
    await pass(60_000);
    const grey = frameWith(profile, [
      [0, 0, 1600, 64, 15],
      [100, 200, 500, 60, 3],
      [1400, 1140, 120, 40, 15],
    ]);
    await panel.show(grey);
    await pass(60_000);
    expect(sim.modes).toEqual([It8951Mode.gc16, It8951Mode.du, It8951Mode.gl16]);
    expect(framesEqual(sim.paper, grey)).toBe(true);
    expect(sim.violations).toEqual([]);
    await panel.stop();
  });
});

describe('controller simulators catch a driver that breaks the rules', () => {
  const expectBreak = async (
    attempt: Promise<unknown>,
    rule: string,
    sim: { violations: string[] },
  ) => {
    await expect(attempt).rejects.toThrow(EinkRuleViolation);
    expect(sim.violations.join('\n')).toContain(rule);
  };

  it('partial without the true old image, before any full, or past the limits', async () => {
    const { profile, controller, simulator, time } = rig('eink-800x480-bw');
    await controller.start();
    const blank = createFrame(profile.width, profile.height);
    const board = frameWith(profile, [[0, 0, 64, 64, 1]]);
    const box = { x: 0, y: 0, width: 64, height: 64 };
    await expectBreak(
      controller.partialRefresh(blank, board, box),
      'before any full refresh',
      simulator,
    );
    time.advance(60_000);
    await controller.fullRefresh(board);
    time.advance(60_000);
    await expectBreak(
      controller.partialRefresh(blank, frameWith(profile, [[0, 0, 8, 8, 1]]), box),
      'old image that is not what the paper shows',
      simulator,
    );
    time.advance(25 * 3_600_000);
    await expectBreak(
      controller.partialRefresh(board, blank, box),
      'no full refresh for 25',
      simulator,
    );
    await controller.stop();
  });

  it('refreshes too soon, too cold, or on a panel that refreshes whole only', async () => {
    const { profile, controller, simulator } = rig('eink-800x480-bw');
    await controller.start();
    const board = frameWith(profile, [[0, 0, 64, 64, 1]]);
    await controller.fullRefresh(board);
    await expectBreak(controller.fullRefresh(board), 'allows one per 30 s', simulator);
    await controller.stop();

    const cold = rig('eink-800x480-bw', -10);
    await cold.controller.start();
    await expectBreak(
      cold.controller.fullRefresh(board),
      'outside the rated 0..50',
      cold.simulator,
    );
    await cold.controller.stop();

    const red = rig('eink-296x128-bwr');
    const uc = red.simulator as Uc8179Simulator;
    await red.controller.start();
    const small = frameWith(red.profile, [[0, 0, 8, 8, 1]]);
    await red.controller.fullRefresh(small);
    expect(uc.refreshes.full).toBe(1);
    await expect(
      red.controller.partialRefresh(small, small, { x: 0, y: 0, width: 8, height: 8 }),
    ).rejects.toThrow('whole only');
    await red.controller.stop();
  });

  it('commands sent while BUSY, traffic without power, and no sleep after a refresh', async () => {
    const { profile, gpio, simulator } = rig('eink-800x480-bw');
    const sim = simulator as Uc8179Simulator;
    const { busy, reset, dc, power } =
      profile.driver.type === 'uc8179'
        ? profile.driver.gpio
        : { busy: 0, reset: 0, dc: 0, power: 0 };
    gpio.input(busy);
    const rst = gpio.output(reset, 1);
    const dcLine = gpio.output(dc, 0);
    const pwr = gpio.output(power, 0);
    await sim.open();
    await expectBreak(sim.write(Buffer.of(Uc8179Command.powerOn)), 'unpowered', sim);
    await pwr.write(1);
    await rst.write(0);
    await rst.write(1);
    // No wait for BUSY after the reset: the datasheet says the controller ignores this.
    await expectBreak(sim.write(Buffer.of(Uc8179Command.powerOn)), 'while BUSY', sim);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await sim.write(Buffer.of(Uc8179Command.powerOn));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const planeBytes = (profile.width / 8) * profile.height;
    await sim.write(Buffer.of(Uc8179Command.dataStart1));
    await dcLine.write(1);
    await sim.write(Buffer.alloc(planeBytes, 0xff));
    await dcLine.write(0);
    await sim.write(Buffer.of(Uc8179Command.dataStart2));
    await dcLine.write(1);
    await sim.write(Buffer.alloc(planeBytes, 0x00));
    await dcLine.write(0);
    await sim.write(Buffer.of(Uc8179Command.displayRefresh));
    expect(sim.refreshes.full).toBe(1);
    expect(sim.paper.pixels.every((p) => p === 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await expectBreak(
      sim.write(Buffer.of(Uc8179Command.dataStart1)),
      'without going to sleep first',
      sim,
    );
    await expectBreak(pwr.write(0), 'power cut after a refresh without deep sleep', sim);
  });

  it('IT8951: a partial refresh before the controller knows the paper', async () => {
    const { profile, controller, simulator } = rig('eink-1600x1200-grey16');
    await controller.start();
    const blank = createFrame(profile.width, profile.height);
    await expectBreak(
      controller.partialRefresh(blank, frameWith(profile, [[0, 0, 8, 8, 15]]), {
        x: 0,
        y: 0,
        width: 8,
        height: 8,
      }),
      'before the controller knows what the paper shows',
      simulator,
    );
    await controller.stop();
  });
});
