/**
 * A sign whose panel controller is unplugged keeps running, tells the manager
 * its panel is dark, and lights the panel as soon as the serial line appears.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { assembleSign } from '../device/assembleSign';
import { loadDeviceConfig } from '../device/config';
import { PanelSimulator } from '../device/panel/panelSimulator';
import { SerialPortLink } from '../device/panel/serialLink';
import type { Sign } from '../device/sign';
import { openPtyPair, type PtyPair } from '../scripts/lib/ptyPair';
import { decodeMessage, topics, type DeviceStatusData } from '../shared';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { quietLogger } from './helpers/system';

const DEVICE = 'unplugged-1';

describe('sign with its panel unplugged', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('reports the dark panel and shows frames once the line comes up', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-unplugged-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const broker: TestBroker = await startBroker();
    cleanups.push(() => broker.close());

    const statuses: DeviceStatusData[] = [];
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'watcher' });
    cleanups.push(() => watcher.endAsync());
    watcher.on('message', (_topic, payload) => {
      const decoded = decodeMessage('deviceStatus', payload);
      if (decoded.ok) statuses.push(decoded.message.data);
    });
    await watcher.subscribeAsync(topics.deviceStatus(DEVICE), { qos: 1 });

    // The serial device does not exist yet: the controller is not plugged in.
    const config = loadDeviceConfig(
      {},
      {
        deviceId: DEVICE,
        brokerUrl: broker.url,
        dataDir: path.join(dir, 'sign'),
        serialPath: path.join(dir, 'sign-tty'),
        statusIntervalSeconds: 1,
        logLevel: 'silent',
      },
    );
    const sign: Sign = assembleSign(config, quietLogger);
    await sign.start();
    cleanups.push(() => sign.stop());

    await waitFor(
      'a status saying the panel is dark',
      () =>
        statuses.some(
          (s) => s.panel?.ok === false && /panel link not open/.test(s.panel.lastError ?? ''),
        ),
      5_000,
    );
    expect(sign.state().lastFrame).toBeNull();

    const pair: PtyPair = await openPtyPair(dir);
    cleanups.push(() => pair.close());
    const simulator = new PanelSimulator({
      link: new SerialPortLink({ path: pair.panelPath, baudRate: 921_600 }),
      width: 192,
      height: 64,
    });
    await simulator.start();
    cleanups.push(() => simulator.stop());

    // Something is lit: with no manager, the "no departures" message at least.
    await simulator.waitFor((frame) => frame.pixels.some((p) => p !== 0), 15_000);
    await waitFor(
      'a status saying the panel is fine',
      () => statuses.at(-1)?.panel?.ok === true,
      5_000,
    );
  });
});
