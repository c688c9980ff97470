/**
 * The panel's watchdog: a sign that stops talking (crashed, hung, restarting
 * in a loop) leaves a dark panel, not a frozen board with a stopped clock.
 * A running sign's driver keeps it fed with HELLOs when it has nothing to
 * send; after a blank the panel refuses RECTs until a FULL_FRAME repaints it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LedMatrixDriver } from '../device/panel/ledMatrixDriver';
import { rectPacket } from '../device/panel/protocol';
import { SerialPortLink } from '../device/panel/serialLink';
import { DeliveryError, StopAndWait } from '../device/panel/stopAndWait';
import { BAUD, startPanelRig, type PanelRig } from './helpers/panelRig';
import { patternFrame } from './helpers/panelFrames';

const WIDTH = 192;
const HEIGHT = 64;
let rig: PanelRig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const dark = (frame: { pixels: Uint8Array }) => frame.pixels.every((p) => p === 0);

describe('panel watchdog', () => {
  it('stays lit while the driver keeps it fed, goes dark when the sign stops, and relights on a full frame', async () => {
    rig = await startPanelRig({ simulator: { watchdogMs: 600 }, driver: { keepaliveMs: 150 } });
    const { simulator, driver, pair } = rig;
    if (!simulator || !driver) throw new Error('rig incomplete');
    const picture = patternFrame(WIDTH, HEIGHT, 3);
    await driver.show(picture);

    // Nothing new to show for three watchdog periods: keepalives hold the picture.
    await new Promise((r) => setTimeout(r, 1800));
    expect(dark(simulator.frame())).toBe(false);
    expect(simulator.stats().watchdogBlanks).toBe(0);
    expect(driver.stats().keepalivesSent).toBeGreaterThan(3);

    // The sign dies: no more packets. The glass goes dark instead of freezing.
    await driver.stop();
    await simulator.waitFor(dark, 3000);
    expect(simulator.stats().watchdogBlanks).toBe(1);

    // A RECT cannot be drawn on a blanked glass: it is refused as stale.
    const rawLink = new SerialPortLink({ path: pair.devicePath, baudRate: BAUD });
    const stale = new StopAndWait({
      link: rawLink,
      ackTimeoutMs: 200,
      maxRetries: 0,
      writeTimeoutMs: 1000,
    });
    stale.start();
    await rawLink.open();
    const refused = await stale
      .send((seq) => rectPacket(seq, picture, { x: 0, y: 0, width: 4, height: 4 }), 'RECT')
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refused).toBeInstanceOf(DeliveryError);
    expect((refused as Error).message).toMatch(/NAK stale/);
    stale.stop();
    await rawLink.close();

    // The restarted sign's driver begins with a FULL_FRAME: the picture is back.
    const restarted = new LedMatrixDriver({
      link: new SerialPortLink({ path: pair.devicePath, baudRate: BAUD }),
      width: WIDTH,
      height: HEIGHT,
      ackTimeoutMs: 1000,
    });
    await restarted.start();
    try {
      await restarted.show(picture);
      expect(dark(simulator.frame())).toBe(false);
      expect(restarted.stats().fullFramesSent).toBe(1);
    } finally {
      await restarted.stop();
    }
  }, 20_000);
});
