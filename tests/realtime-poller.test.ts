/**
 * The feed poller against a real HTTP server on loopback: conditional requests,
 * API-key headers, a server that is down, a server that is too slow, and a
 * manager that publishes nothing while the feed answers 304.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { replayClock, topics } from '../shared';
import { loadManagerConfig } from '../manager/config';
import { Manager } from '../manager/manager';
import { FeedPoller, type PollOutcome } from '../manager/realtime/feedPoller';
import type { FeedReport } from '../manager/realtime/realtimeService';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, tinyGtfsZip } from './helpers/gtfsFixture';
import { encodeFeed } from './helpers/realtimeFeeds';
import {
  adminApiFor,
  observerMqttOptions,
  quietLogger,
  testSecurityConfig,
} from './helpers/system';
import { unusedPort } from './helpers/deviceBroker';

const START = Date.UTC(2025, 5, 15, 22, 21, 0);
const FEED = encodeFeed({
  header: { gtfsRealtimeVersion: '2.0', timestamp: START / 1000 - 5 },
  entity: [
    {
      id: 'e1',
      tripUpdate: {
        trip: { tripId: 'R1-0625', startDate: '20250616' },
        stopTimeUpdate: [{ stopSequence: 1, departure: { delay: 120 } }],
      },
    },
  ],
});

interface Served {
  url: string;
  requests: http.IncomingHttpHeaders[];
  statuses: number[];
  close(): Promise<void>;
}

/** Serves FEED with an ETag and Last-Modified, answering 304 to a matching conditional request. */
async function serveFeed(delayMs = 0): Promise<Served> {
  const requests: http.IncomingHttpHeaders[] = [];
  const statuses: number[] = [];
  const etag = '"feed-1"';
  const modified = new Date(START).toUTCString();
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    const answer = () => {
      if (req.headers['if-none-match'] === etag) {
        statuses.push(304);
        res.writeHead(304).end();
        return;
      }
      statuses.push(200);
      res
        .writeHead(200, {
          'content-type': 'application/x-protobuf',
          etag,
          'last-modified': modified,
        })
        .end(Buffer.from(FEED));
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/trip-updates.pb`,
    requests,
    statuses,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function poller(url: string, options: Partial<ConstructorParameters<typeof FeedPoller>[0]> = {}) {
  const outcomes: { at: number; outcome: PollOutcome }[] = [];
  const p = new FeedPoller({
    url,
    headers: { 'x-api-key': 'secret-123' },
    intervalMs: 50,
    timeoutMs: 1_000,
    maxBackoffMs: 400,
    logger: quietLogger,
    onOutcome: (outcome) => void outcomes.push({ at: performance.now(), outcome }),
    random: () => 0,
    ...options,
  });
  cleanups.push(() => p.stop());
  return { poller: p, outcomes };
}

describe('FeedPoller', () => {
  it('sends the API key, then If-None-Match / If-Modified-Since, and gets 304 for an unchanged feed', async () => {
    const served = await serveFeed();
    cleanups.push(() => served.close());
    const { poller: p, outcomes } = poller(served.url);
    p.start();
    await waitFor('three polls', () => outcomes.length >= 3);
    expect(outcomes.map((o) => o.outcome.kind).slice(0, 3)).toEqual([
      'changed',
      'not-modified',
      'not-modified',
    ]);
    expect(served.requests.every((h) => h['x-api-key'] === 'secret-123')).toBe(true);
    expect(served.requests[0]!['if-none-match']).toBeUndefined();
    expect(served.requests[1]).toMatchObject({
      'if-none-match': '"feed-1"',
      'if-modified-since': new Date(START).toUTCString(),
    });
  });

  it('backs off from a server that is down, with a cap, and says why', async () => {
    const port = await unusedPort();
    // Jitter pinned at its top: 100, 200, 400 ms, then the 400 ms cap.
    const { poller: p, outcomes } = poller(`http://127.0.0.1:${port}/feed.pb`, {
      random: () => 0.999,
    });
    p.start();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await p.stop();
    const first = outcomes[0]!.outcome;
    expect(first.kind === 'failed' && first.reason).toMatch(/ECONNREFUSED/);
    expect(outcomes.every((o) => o.outcome.kind === 'failed')).toBe(true);
    // Every 50 ms that would be about 40 attempts; backing off it is at most 2 + 1900/400.
    expect(outcomes.length).toBeGreaterThanOrEqual(3);
    expect(outcomes.length).toBeLessThanOrEqual(8);
    expect(p.consecutiveFailures).toBe(outcomes.length);
    expect(p.nextDelayMs()).toBe(400);
  });

  it('gives up on a slow server at the timeout', async () => {
    const served = await serveFeed(3_000);
    cleanups.push(() => served.close());
    const { poller: p } = poller(served.url, { timeoutMs: 300 });
    const outcome = await p.pollOnce();
    expect(outcome).toEqual({
      kind: 'failed',
      reason: `no answer from ${served.url} within 300 ms`,
    });
  });
});

describe('a manager polling a feed', () => {
  it('publishes the board once, then nothing while the feed answers 304', async () => {
    const served = await serveFeed();
    cleanups.push(() => served.close());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-poll-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const gtfsPath = path.join(dir, 'tiny.zip');
    fs.writeFileSync(gtfsPath, tinyGtfsZip());
    const config = loadManagerConfig(
      {},
      {
        httpPort: 0,
        brokerPort: 0,
        dataDir: path.join(dir, 'manager'),
        gtfsPath,
        publishIntervalSeconds: 1,
        realtimePollSeconds: 1,
        realtimeTripUpdatesUrl: served.url,
        realtimeHeaders: '{"x-api-key":"secret-123"}',
        ...testSecurityConfig(),
      },
    );
    const manager = new Manager(config, quietLogger, replayClock(START));
    const endpoints = await manager.start();
    cleanups.push(() => manager.stop());
    const api = await adminApiFor(config, endpoints);
    cleanups.push(() => api.close());
    await api.post('/api/signs', { deviceId: 's1', stopId: STOP_CENTRAL });
    const client = await mqtt.connectAsync(endpoints.brokerUrl, observerMqttOptions('watcher'));
    cleanups.push(() => client.endAsync(true));
    const boards: Buffer[] = [];
    client.on('message', (_topic, payload) => boards.push(payload));
    await client.subscribeAsync(topics.stopArrivals(STOP_CENTRAL));
    await waitFor('a live board', () => boards.some((b) => b.toString().includes('"live"')));
    const published = boards.length;
    const polls = served.statuses.length;
    await waitFor('three more polls, all 304', () => served.statuses.length >= polls + 3, 8_000);
    expect(served.statuses.slice(polls)).toEqual(served.statuses.slice(polls).map(() => 304));
    expect(boards.length).toBe(published);
    const feeds = (await api.json<unknown>('/api/realtime')) as {
      feeds: FeedReport[];
    };
    expect(feeds.feeds[0]).toMatchObject({ source: served.url, live: true, failures: 0 });
    expect(feeds.feeds[0]!.notModified).toBeGreaterThanOrEqual(3);
  }, 30_000);
});
