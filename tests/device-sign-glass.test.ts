import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brightnessAt } from '../device/board/brightness';
import { LedMatrixDriver } from '../device/panel/ledMatrixDriver';
import { PanelSimulator } from '../device/panel/panelSimulator';
import { SerialPortLink } from '../device/panel/serialLink';
import { framesEqual } from '../device/render/frame';
import { frameToPng } from '../device/render/png';
import { renderBoard } from '../device/render/renderBoard';
import { openPtyPair, type PtyPair } from '../scripts/lib/ptyPair';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import {
  buildSign,
  configData,
  tempDir,
  TestManager,
  waitFor,
  type SignUnderTest,
} from './helpers/deviceFixtures';

describe('sign driving the LED matrix over a serial line', () => {
  let broker: TestBroker;
  let temp: ReturnType<typeof tempDir>;
  let pty: PtyPair;
  let simulator: PanelSimulator;
  let manager: TestManager;
  let subject: SignUnderTest<LedMatrixDriver>;

  beforeEach(async () => {
    broker = await startBroker();
    temp = tempDir();
    pty = await openPtyPair(path.join(temp.dir, 'tty'));
    simulator = new PanelSimulator({
      link: new SerialPortLink({ path: pty.panelPath, baudRate: 921_600 }),
      width: 192,
      height: 64,
    });
    await simulator.start();
    manager = await TestManager.connect(broker.url);
    await manager.publishAll();
    const panel = new LedMatrixDriver({
      link: new SerialPortLink({ path: pty.devicePath, baudRate: 921_600 }),
      width: 192,
      height: 64,
    });
    subject = buildSign({
      brokerUrl: broker.url,
      dataDir: temp.dir,
      render: renderBoard,
      toPng: (frame) => frameToPng(frame),
      panel,
    });
  });

  afterEach(async () => {
    await subject.sign.stop();
    await simulator.stop();
    await pty.close();
    await manager.close();
    await broker.close();
    temp.remove();
  });

  it('puts the live board on the glass and sets its brightness', async () => {
    const started = performance.now();
    await subject.sign.start();
    await waitFor('live mode', () => subject.sign.state().mode === 'live');
    await waitFor(
      'the glass to show what the sign rendered',
      () => {
        const shown = subject.sign.state().lastFrame;
        return (
          shown !== null &&
          subject.sign.state().mode === 'live' &&
          framesEqual(simulator.frame(), shown)
        );
      },
      10_000,
    );
    const lit = simulator.frame().pixels.some((p) => p !== 0);
    expect(lit).toBe(true);
    const expected = brightnessAt(Date.now(), configData().brightness, 'Asia/Hong_Kong');
    await waitFor('brightness on the glass', () => simulator.brightness() === expected);
    const stats = subject.panel.stats();
    expect(stats.ok).toBe(true);
    expect(stats.framesSent).toBeGreaterThan(0);
    console.info(
      `glass: first frame acknowledged ${subject.sign.state().firstFrameAfterMs} ms after start(); live board on glass after ${Math.round(performance.now() - started)} ms; rss ${Math.round(process.memoryUsage.rss() / 1e6)} MB`,
    );
  });
});
