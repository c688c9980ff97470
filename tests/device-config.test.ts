import { describe, expect, it } from 'vitest';
import { DeviceConfigError, loadDeviceConfig } from '../device/config';

const minimal = {
  STOPSIGN_DEVICE_ID: 'sign-1',
  STOPSIGN_BROKER_URL: 'mqtt://broker.local:1883',
  STOPSIGN_SERIAL_PATH: '/dev/ttyUSB0',
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof DeviceConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a DeviceConfigError');
}

describe('loadDeviceConfig', () => {
  it('fills documented defaults and takes the firmware version from package.json', () => {
    const config = loadDeviceConfig({ ...minimal, STOPSIGN_DATA_DIR: 'data/sign' });
    expect(config).toMatchObject({
      deviceId: 'sign-1',
      brokerUrl: 'mqtt://broker.local:1883',
      dbPath: 'data/sign/sign.db',
      baudRate: 921_600,
      panelWidth: 192,
      panelHeight: 64,
      reconnectMinMs: 1_000,
      reconnectMaxMs: 60_000,
      staleAfterSeconds: 180,
      predictionStaleSeconds: 90,
      clockSync: 'manager',
      statusIntervalSeconds: 60,
      frameUploadIntervalSeconds: 300,
    });
    expect(config.firmwareVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reads numbers from the environment and lets overrides win', () => {
    const config = loadDeviceConfig(
      { ...minimal, STOPSIGN_PANEL_PROFILE: 'led-192x64-tricolour', STOPSIGN_BAUD_RATE: '115200' },
      { panelProfile: 'led-128x32-mono', staleAfterSeconds: 30, predictionStaleSeconds: 20 },
    );
    expect(config).toMatchObject({
      panelProfile: 'led-128x32-mono',
      panelWidth: 128,
      panelHeight: 32,
      baudRate: 115_200,
      staleAfterSeconds: 30,
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadDeviceConfig({ ...minimal, STOPSIGN_BAUD_RATE: '' }).baudRate).toBe(921_600);
  });

  it('reports every problem at once, by variable name', () => {
    const problems = problemsOf(() =>
      loadDeviceConfig({
        STOPSIGN_DEVICE_ID: 'bad id!',
        STOPSIGN_BROKER_URL: 'http://example.com',
        STOPSIGN_BAUD_RATE: 'fast',
        STOPSIGN_PANEL_PROFILE: 'no-such-panel',
        STOPSIGN_STALE_AFTER_SECONDS: '-1',
      }),
    );
    const joined = problems.join('\n');
    expect(problems.length).toBeGreaterThanOrEqual(5);
    for (const name of [
      'STOPSIGN_DEVICE_ID',
      'STOPSIGN_BROKER_URL',
      'STOPSIGN_BAUD_RATE',
      'STOPSIGN_PANEL_PROFILE no-such-panel: no such profile',
      'STOPSIGN_STALE_AFTER_SECONDS',
    ]) {
      expect(joined).toContain(name);
    }
  });

  it('rejects a reconnect minimum above the maximum', () => {
    const problems = problemsOf(() =>
      loadDeviceConfig({
        ...minimal,
        STOPSIGN_RECONNECT_MIN_MS: '5000',
        STOPSIGN_RECONNECT_MAX_MS: '100',
      }),
    );
    expect(problems).toEqual([expect.stringContaining('STOPSIGN_RECONNECT_MIN_MS')]);
  });

  it('takes the serial line from the profile unless the environment names one', () => {
    const { STOPSIGN_SERIAL_PATH: _unused, ...noSerial } = minimal;
    expect(loadDeviceConfig(noSerial)).toMatchObject({ serialPath: '/dev/ttyAMA0' });
    expect(loadDeviceConfig(minimal)).toMatchObject({ serialPath: '/dev/ttyUSB0' });
  });
});
