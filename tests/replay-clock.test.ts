/** The replay clock and the realtime settings, as each program's config loader reads them. */
import { describe, expect, it } from 'vitest';
import { heldReplayClock, parseClockStart, replayClock } from '../shared';
import { DeviceConfigError, loadDeviceConfig } from '../device/config';
import { ConfigError, loadManagerConfig } from '../manager/config';

const START = '2025-11-06T21:04:14Z';

describe('replay clock', () => {
  it('starts at the given instant and runs at normal speed', () => {
    let real = 1_000_000;
    const clock = replayClock(Date.parse(START), () => real);
    expect(new Date(clock()).toISOString()).toBe('2025-11-06T21:04:14.000Z');
    real += 20_500;
    expect(new Date(clock()).toISOString()).toBe('2025-11-06T21:04:34.500Z');
  });

  it('can hold at its instant while a program sets itself up', () => {
    let real = 5_000;
    const held = heldReplayClock(Date.parse(START), () => real);
    real += 30_000; // a long import
    expect(held.now()).toBe(Date.parse(START));
    held.run();
    real += 1_500;
    expect(held.now()).toBe(Date.parse(START) + 1_500);
  });

  it('takes only instants with a zone', () => {
    expect(parseClockStart(START)).toBe(Date.parse(START));
    expect(parseClockStart('2025-11-06T17:04:14-04:00')).toBe(Date.parse(START));
    expect(parseClockStart('2025-11-06 21:04')).toMatch(/ISO-8601/);
    expect(parseClockStart('2025-11-06T21:04:14')).toMatch(/ISO-8601/);
    expect(parseClockStart('2025-13-45T21:04:14Z')).toBe('not a real instant');
  });
});

describe('manager settings', () => {
  it('reads the replay clock and the realtime feeds from the environment', () => {
    const config = loadManagerConfig({
      STOPSIGN_CLOCK_START: START,
      STOPSIGN_REALTIME_TRIP_UPDATES_URL: 'https://agency.example/tu.pb',
      STOPSIGN_REALTIME_HEADERS: '{"x-api-key":"k"}',
    });
    expect(config).toMatchObject({
      clockStart: Date.parse(START),
      realtimeTripUpdatesUrl: 'https://agency.example/tu.pb',
      realtimeHeaders: { 'x-api-key': 'k' },
      realtimePollSeconds: 20,
      realtimeStaleSeconds: 90,
    });
    expect(loadManagerConfig({}).clockStart).toBeUndefined();
  });

  it('names every bad realtime setting at once', () => {
    let message = '';
    try {
      loadManagerConfig({
        STOPSIGN_CLOCK_START: 'yesterday',
        STOPSIGN_REALTIME_HEADERS: 'x-api-key: k',
        STOPSIGN_REALTIME_URL: 'not a url',
      });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/STOPSIGN_CLOCK_START/);
    expect(message).toMatch(/STOPSIGN_REALTIME_HEADERS/);
    expect(message).toMatch(/STOPSIGN_REALTIME_URL/);
  });
});

describe('sign settings', () => {
  const base = {
    STOPSIGN_DEVICE_ID: 'sign-1',
    STOPSIGN_BROKER_URL: 'mqtt://127.0.0.1:1883',
    STOPSIGN_SERIAL_PATH: '/dev/ttyS0',
  };

  it('reads the replay clock, clock policy and staleness limits', () => {
    const config = loadDeviceConfig({ ...base, STOPSIGN_CLOCK_START: START });
    expect(config).toMatchObject({
      clockStart: Date.parse(START),
      clockSync: 'manager',
      predictionStaleSeconds: 90,
      staleAfterSeconds: 180,
    });
  });

  it('refuses a fallback that comes before rows are marked stale, and a bad instant', () => {
    expect(() =>
      loadDeviceConfig({
        ...base,
        STOPSIGN_STALE_AFTER_SECONDS: '60',
        STOPSIGN_CLOCK_START: 'soon',
      }),
    ).toThrow(DeviceConfigError);
    try {
      loadDeviceConfig({
        ...base,
        STOPSIGN_STALE_AFTER_SECONDS: '60',
        STOPSIGN_CLOCK_START: 'soon',
      });
    } catch (err) {
      const problems = (err as DeviceConfigError).problems.join('\n');
      expect(problems).toMatch(/STOPSIGN_CLOCK_START/);
    }
  });
});
