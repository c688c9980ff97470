/**
 * Checks on the timetable the predictions stand on: coverage warnings, a new
 * feed refused when it drops stops that signs use (unless forced), and a sign
 * whose stop disappeared saying so, in the agency's zone, never UTC.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, topics, type DeviceConfigData } from '../shared';
import { coverageWarnings, signsLosingTheirStop } from '../manager/gtfs/feedChecks';
import mqtt from 'mqtt';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, STOP_MARKET, tinyGtfsFiles, zipGtfs } from './helpers/gtfsFixture';
import {
  createSign,
  observerMqttOptions,
  startTestManager,
  startTestSign,
  type RunningManager,
  type RunningSign,
} from './helpers/system';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('coverageWarnings', () => {
  const base = {
    serviceStart: '20250825',
    serviceEnd: '20251116',
    timezone: 'America/Halifax',
    tripMatchRate: null,
  };

  it('warns when the timetable does not cover today, or ends within 7 days', () => {
    expect(coverageWarnings({ ...base, now: at('2025-11-06T21:04:14Z') })).toEqual([]);
    expect(coverageWarnings({ ...base, now: at('2025-11-12T12:00:00Z') })).toEqual([
      'the timetable ends on 20251116, within 7 days',
    ]);
    // 03:30 UTC on the 17th is still the 16th in Halifax: covered, and ending.
    expect(coverageWarnings({ ...base, now: at('2025-11-17T03:30:00Z') })[0]).toMatch(/ends on/);
    expect(coverageWarnings({ ...base, now: at('2025-11-17T12:00:00Z') })).toEqual([
      'the timetable does not cover today (20251117): it runs 20250825-20251116',
    ]);
    expect(coverageWarnings({ ...base, now: at('2025-08-01T12:00:00Z') })[0]).toMatch(
      /does not cover today/,
    );
  });

  it('warns when under 90% of realtime trips match the timetable', () => {
    const now = at('2025-11-06T21:04:14Z');
    expect(coverageWarnings({ ...base, now, tripMatchRate: 0.9 })).toEqual([]);
    expect(coverageWarnings({ ...base, now, tripMatchRate: 0.42 })[0]).toMatch(
      /only 42% of realtime trips match the timetable/,
    );
  });

  it('names the signs whose stop a new feed drops', () => {
    const signs = [
      { deviceId: 'a', stopId: 'X' },
      { deviceId: 'b', stopId: 'Y' },
    ];
    expect(signsLosingTheirStop(['X', 'Z'], signs)).toEqual([{ deviceId: 'b', stopId: 'Y' }]);
  });
});

describe('a timetable that drops a stop signs use', () => {
  let dir: string;
  let manager: RunningManager;
  let sign: RunningSign;
  /** The tiny feed without Market Street. */
  let withoutMarket: Uint8Array;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-checks-'));
    manager = await startTestManager(dir);
    const claims = new Map<string, string>();
    for (const [deviceId, stopId] of <[string, string][]>[
      ['market-1', STOP_MARKET],
      ['central-1', STOP_CENTRAL],
    ]) {
      claims.set(deviceId, await createSign(manager, { deviceId, stopId }));
    }
    sign = await startTestSign(dir, { claim: claims.get('market-1') ?? '' });
    const files = tinyGtfsFiles();
    const drop = (text: string, column: number) =>
      text
        .split('\n')
        .filter((line) => line.split(',')[column] !== STOP_MARKET)
        .join('\n');
    files['stops.txt'] = drop(files['stops.txt']!, 0);
    files['stop_times.txt'] = drop(files['stop_times.txt']!, 3);
    withoutMarket = zipGtfs(files);
  }, 30_000);

  afterAll(async () => {
    await sign?.stop();
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const upload = (query = '') => manager.api.post(`/api/gtfs${query}`, Buffer.from(withoutMarket));

  it('reports coverage in /api/health and /api/gtfs', async () => {
    const health = (await manager.api.json<unknown>('/api/health')) as {
      timetableWarnings: string[];
    };
    expect(health.timetableWarnings).toEqual([]);
    const gtfs = (await manager.api.json<unknown>('/api/gtfs')) as {
      coverageWarnings: string[];
      stops: number;
    };
    expect(gtfs).toMatchObject({ coverageWarnings: [], stops: 6 });
  });

  it('is refused with the list of signs, and the old timetable stays', async () => {
    const res = await upload();
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: string; signs: unknown[] };
    expect(body.signs).toEqual([{ deviceId: 'market-1', stopId: STOP_MARKET }]);
    expect(body.error).toMatch(/force=true/);
    const gtfs = (await manager.api.json<unknown>('/api/gtfs')) as { stops: number };
    expect(gtfs.stops).toBe(6);
  });

  it('goes in when forced; the sign says its stop is gone, in the agency zone, not UTC', async () => {
    const res = await upload('?force=true');
    expect(res.status).toBe(201);
    const client = await mqtt.connectAsync(
      manager.brokerUrl,
      observerMqttOptions('config-watcher'),
    );
    let config: DeviceConfigData | undefined;
    let statusSaysGone = false;
    client.on('message', (topic, payload) => {
      if (topic === topics.deviceConfig('market-1')) {
        const m = decodeMessage('deviceConfig', payload, 'market-1');
        if (m.ok) config = m.message.data;
      } else {
        const m = decodeMessage('deviceStatus', payload, 'market-1');
        if (m.ok && m.message.data.stopInFeed === false) statusSaysGone = true;
      }
    });
    await client.subscribeAsync([topics.deviceConfig('market-1'), topics.deviceStatus('market-1')]);
    try {
      await waitFor('the config saying the stop is gone', () => config?.stopInFeed === false);
      expect(config?.timezone).toBe('Asia/Hong_Kong');
      await waitFor('the sign reporting it in its status', () => statusSaysGone, 10_000);
    } finally {
      await client.endAsync(true);
    }
    await waitFor(
      'the glass saying so',
      () => sign.sign.state().view?.notice?.kind === 'stop-missing',
      10_000,
    );
    expect(sign.sign.state().view?.timezone).toBe('Asia/Hong_Kong');
    expect(sign.sign.state().view?.rows).toEqual([]);
  });
});
