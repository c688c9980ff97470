/**
 * A sign and a simulated panel joined by a real socat pty pair, as a test
 * fixture. Each part is optional so tests can stand in for either end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedMatrixDriver, type LedMatrixDriverOptions } from '../../device/panel/ledMatrixDriver';
import { PanelSimulator, type PanelSimulatorOptions } from '../../device/panel/panelSimulator';
import { SerialPortLink } from '../../device/panel/serialLink';
import { openPtyPair, type PtyPair } from '../../scripts/lib/ptyPair';

export const BAUD = 921_600;

export interface RigOptions {
  width?: number;
  height?: number;
  /** false: leave the sign end free for the test. */
  driver?: Partial<Omit<LedMatrixDriverOptions, 'link' | 'width' | 'height'>> | false;
  /** false: nobody on the panel end. */
  simulator?: Partial<Omit<PanelSimulatorOptions, 'link' | 'width' | 'height'>> | false;
}

export interface PanelRig {
  dir: string;
  pair: PtyPair;
  driver: LedMatrixDriver | undefined;
  simulator: PanelSimulator | undefined;
  close(): Promise<void>;
}

export async function startPanelRig(options: RigOptions = {}): Promise<PanelRig> {
  const width = options.width ?? 192;
  const height = options.height ?? 64;
  const dir = await mkdtemp(join(tmpdir(), 'stopsign-panel-'));
  const pair = await openPtyPair(dir);
  const simulator =
    options.simulator === false
      ? undefined
      : new PanelSimulator({
          link: new SerialPortLink({ path: pair.panelPath, baudRate: BAUD }),
          width,
          height,
          ...options.simulator,
        });
  const driver =
    options.driver === false
      ? undefined
      : new LedMatrixDriver({
          link: new SerialPortLink({ path: pair.devicePath, baudRate: BAUD }),
          width,
          height,
          // Generous, so a busy test machine causes no extra retries in exact counts.
          ackTimeoutMs: 1000,
          // No keepalive HELLOs between a test's packets unless it asks: counts stay exact.
          keepaliveMs: 0,
          ...options.driver,
        });
  const close = async () => {
    await driver?.stop();
    await simulator?.stop();
    await pair.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await simulator?.start();
    await driver?.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { dir, pair, driver, simulator, close };
}
